"""The nginx edge: shipped files, rendering, CORS, JSON error pages, TLS, headers. What the route table decides
(workers, rate-limit group, private routes, no-store) is in test_nginx_routes.py."""
import http.client
import os
import re
import shutil
import ssl
import stat
import subprocess
import warnings

import pytest
import requests

from conftest import BIN, ROOT, wait_for

RENDER = os.path.join(ROOT, "scripts", "render-nginx")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def test_every_shipped_file_passes_nginx_t(tmp_path, stack):
    """The production rendering (redirecting site, /run socket) and the local one both load in nginx."""
    for production in (True, False):
        out = tmp_path / ("production" if production else "local")
        env = dict(os.environ, TLS_CERT=stack.nginx_env["TLS_CERT"], TLS_KEY=stack.nginx_env["TLS_KEY"],
                   ALLOWED_ORIGINS="https://app.example.com,http://localhost:3000", NGINX_HTTP_PORT="18080",
                   NGINX_HTTPS_PORT="18443", NGINX_LISTEN_ADDRESS="127.0.0.1")
        args = [RENDER, "--out", str(out), "--local", str(out)] + (["--production"] if production else [])
        subprocess.run(args, env=env, check=True)
        assert "/run/user-service/user-service.sock" in (out / "conf.d" / "user-service.conf").read_text()
        result = subprocess.run(["nginx", "-t", "-p", str(out), "-c", str(out / "nginx.conf")], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
    site = (tmp_path / "production" / "sites" / "user-service.conf").read_text()
    assert "return 301 https://$host$request_uri;" in site


def test_render_needs_only_the_socket_settings_and_finds_the_binary(tmp_path):
    """A site that mounts the service renders with the socket settings alone (no database, no JWT secret): the
    route maps come from USER_SERVICE_BIN when it is named, else the checkout's build, else PATH; without any, a
    clear failure."""
    bare = {"PATH": "/usr/bin:/bin", "USER_SERVICE_SOCKET": "/run/x/main.sock"}
    subprocess.run([RENDER, "--out", str(tmp_path / "here")], env=bare, check=True)  # this checkout's build
    assert "map \"$request_method $user_service_path\" $user_service_workers {" in \
        (tmp_path / "here" / "conf.d" / "user-service.conf").read_text()
    maps = subprocess.run([BIN, "routes", "--nginx"], env={}, capture_output=True, text=True, check=True).stdout
    named = tmp_path / "named-user-service"  # the real binary, marked: named, it wins over the checkout's build
    named.write_text(f'#!/bin/sh\n"{BIN}" "$@"\necho "# rendered by the named binary"\n')
    named.chmod(0o755)
    subprocess.run([RENDER, "--out", str(tmp_path / "named")], env=dict(bare, USER_SERVICE_BIN=str(named)), check=True)
    assert "# rendered by the named binary" in (tmp_path / "named" / "conf.d" / "user-service.conf").read_text()

    checkout = tmp_path / "checkout"  # the scripts and templates without a build folder
    shutil.copytree(os.path.join(ROOT, "nginx"), checkout / "nginx")
    shutil.copytree(os.path.join(ROOT, "scripts"), checkout / "scripts")
    render = str(checkout / "scripts" / "render-nginx")
    result = subprocess.run([render, "--out", str(tmp_path / "none")], env=bare, capture_output=True, text=True)
    assert result.returncode != 0 and "no user-service binary" in result.stderr
    subprocess.run([render, "--out", str(tmp_path / "env")], env=dict(bare, USER_SERVICE_BIN=BIN), check=True)
    assert maps in (tmp_path / "env" / "conf.d" / "user-service.conf").read_text()
    (tmp_path / "path").mkdir()
    os.symlink(BIN, tmp_path / "path" / "user-service")
    subprocess.run([render, "--out", str(tmp_path / "path-out")], env=dict(bare, PATH=f"{tmp_path / 'path'}:/usr/bin:/bin"),
                   check=True)
    assert maps in (tmp_path / "path-out" / "conf.d" / "user-service.conf").read_text()


@pytest.mark.parametrize("origins", ["*", "https://a.example.com,*", "not an origin"])
def test_render_refuses_wildcard_and_junk_origins(tmp_path, origins):
    result = subprocess.run([RENDER, "--out", str(tmp_path)], env=dict(os.environ, ALLOWED_ORIGINS=origins),
                            capture_output=True, text=True)
    assert result.returncode != 0 and "ALLOWED_ORIGINS" in result.stderr


@pytest.fixture(scope="module")
def cors_stack():
    from conftest import Stack
    s = Stack("cors", workers=1, nginx_env={"ALLOWED_ORIGINS": "https://app.example.com"})
    yield s
    s.stop()


def test_cors_preflight_and_simple_requests(cors_stack, http):
    allowed = http.options(cors_stack.url("/api/v1/auth/login"), headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in allowed.headers["Access-Control-Allow-Headers"]
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"

    refused = http.options(cors_stack.url("/api/v1/auth/login"), headers={
        "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert not any(h.lower().startswith("access-control-") for h in refused.headers)

    for path, status in (("/", 200), ("/api/v1/auth/nothing", 404), ("/api/v1/auth/me", 401)):
        simple = http.get(cors_stack.url(path), headers={"Origin": "https://app.example.com"})
        assert simple.status_code == status
        assert simple.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        other = http.get(cors_stack.url(path), headers={"Origin": "https://evil.example.com"})
        assert "Access-Control-Allow-Origin" not in other.headers


def test_pool_gone_is_json_502_with_headers(make_stack, http):
    s = make_stack(name="gone", workers=1)
    s.stop_pool()
    response = http.get(s.url("/health"), headers={"Origin": "https://x.example.com"})
    assert response.status_code == 502
    assert response.json() == {"detail": "Service unavailable"}
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_headers_on_success_and_client_errors(stack, http):
    for path, status in (("/", 200), ("/nope", 404), ("/api/v1/auth/nope", 404)):
        response = http.get(stack.url(path))
        assert response.status_code == status
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP
        # Exactly one id (requests joins repeated headers with ", ").
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_request_id_is_logged_once_and_matches(stack, http):
    response = http.get(stack.url("/"))
    request_id = response.headers["X-Request-ID"]
    wait_for(lambda: f"request_id={request_id}" in stack.pool_log(), message="request id in the log")


def test_tls_answers_with_modern_protocols_and_hsts(stack):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        context.minimum_version = context.maximum_version = version
        connection = http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=context, timeout=10)
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Strict-Transport-Security").startswith("max-age=")
        assert connection.sock.version() in ("TLSv1.2", "TLSv1.3")
        connection.close()
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    old.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises((ssl.SSLError, OSError)):
        connection = http.client.HTTPSConnection("127.0.0.1", stack.https_port, context=old, timeout=10)
        connection.request("GET", "/health")
        connection.getresponse()


def request_from(source, port, method, path, headers=None, body=None):
    """One request to nginx from a loopback address of our choosing: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    answer = response.status, response.headers, response.read()
    connection.close()
    return answer


def test_forged_forwarded_for_does_not_change_the_client_address(stack):
    status, _, _ = request_from("127.0.0.3", stack.http_port, "GET", "/?forged=1",
                                headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
    assert status == 200
    wait_for(lambda: "remote_addr=127.0.0.3" in stack.pool_log(), message="the real peer address logged")
    assert "203.0.113.9" not in stack.pool_log()


def test_only_nginx_workers_reach_the_pool_sockets(make_stack, http):
    """The pool's FastCGI sockets are for nginx's workers (group www-data) only: any other local user talking
    FastCGI directly would bypass nginx (forged REMOTE_ADDR, /metrics, no rate limits)."""
    from conftest import AS_ROOT
    from test_scripts import can_connect_as
    if not AS_ROOT:
        pytest.skip("needs root to act as other users")  # CI runs as root
    s = make_stack(name="sockets", workers=1, password_workers=1)
    for path in (s.socket_path, s.password_socket_path):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o007 == 0, oct(os.stat(path).st_mode)
        assert not can_connect_as("nobody", path), path
        assert can_connect_as("www-data", path), path
    assert http.get(s.url("/health")).status_code == 200


def test_the_content_type_reaches_the_pool(make_stack, http, tmp_path):
    """nginx passes CONTENT_TYPE (when the request has one) among the FastCGI parameters the pool reads. Seen in
    what the pool's worker reads from its socket."""
    trace = str(tmp_path / "trace")
    s = make_stack(name="ctype", workers=1, wrapper=["strace", "-f", "-qq", "-s", "4096", "-e", "trace=read,recvfrom",
                                                     "-o", trace])
    marker = "text/plain; charset=x-" + os.urandom(4).hex()
    http.post(s.url("/api/v1/auth/refresh"), data=b'{"refresh_token": "x"}', headers={"Content-Type": marker})
    http.post(s.url("/api/v1/auth/refresh"), data=b'{"refresh_token": "y"}', headers={"Content-Type": ""})
    wait_for(lambda: s.pool_log().count("route=/api/v1/auth/refresh ") == 2, message="both requests")
    s.stop()
    text = open(trace).read()
    assert "CONTENT_TYPE" + marker in text  # name, then value, in one FastCGI params record
    assert text.count("CONTENT_TYPE") == 1  # if_not_empty: a request without one sends none
