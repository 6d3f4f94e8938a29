"""A site that mounts the service twice: under /users-svc and at the root (the docs pages at both)."""

PREFIX = "/users-svc"

SITE = """
server {
    listen 127.0.0.1:@PORT@;
    server_name docs.test;
    include @SNIPPETS@/user-service-errors.conf;
    location ~ ^/users-svc(?<user_service_path>/.*)$ { include @SNIPPETS@/user-service.conf; }
    location ~ ^(?<user_service_path>/.*)$ { include @SNIPPETS@/user-service.conf; }
}
"""
