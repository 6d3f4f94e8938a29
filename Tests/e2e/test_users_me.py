"""/api/v1/users/me end to end through nginx: the seed's "Update Profile" example as written, and an account's deletion
(a DELETE with a body, through nginx to the pool) ending every token at once, and the data export as an attachment. The handlers and their SQL (partial
updates, refused fields, bounds, the cascade, the throttle, the race with a password change) are tested at the
`Application` level in Tests/UserServiceTests/UsersMe*Tests.swift; which workers serve each route and its rate-limit
group and no-store by the table-driven test_nginx_routes.py."""
import json
import os
import subprocess

import requests

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import psql
from test_auth import SEED_README

# The seed README's "Update Profile" body, byte for byte.
UPDATE_PROFILE_BODY = """{
    "full_name": "Updated Name",
    "current_title": "Software Engineer",
    "location": "San Francisco, CA"
  }"""


def test_the_seed_update_profile_example_runs_as_written(stack, http):
    if os.path.exists(SEED_README):
        readme = open(SEED_README).read()
        assert ('curl -X PUT "http://localhost:8001/api/v1/users/me" \\\n  -H "Authorization: Bearer YOUR_ACCESS_TOKEN" \\\n'
                '  -H "Content-Type: application/json" \\\n  -d \'' + UPDATE_PROFILE_BODY + "'") in readme
    user, tokens = new_user(http, stack)
    out = subprocess.run(["curl", "-s", "-D", "-", "-X", "PUT", stack.url("/api/v1/users/me"),
                          "-H", f"Authorization: Bearer {tokens['access_token']}", "-H", "Content-Type: application/json",
                          "-d", UPDATE_PROFILE_BODY], capture_output=True, text=True, check=True).stdout
    head, body = out.split("\n\n", 1)  # text mode reads CRLF as a newline
    assert head.startswith("HTTP/1.1 200"), out
    assert "\ncache-control: no-store\n" in head.lower() + "\n"
    answer = json.loads(body)
    assert answer["id"] == user["id"] and answer["username"] == user["username"]
    assert (answer["full_name"], answer["current_title"], answer["location"]) == (
        "Updated Name", "Software Engineer", "San Francisco, CA")
    # /api/v1/auth/me and GET /api/v1/users/me show the same user.
    for path in ("/api/v1/auth/me", "/api/v1/users/me"):
        shown = http.get(stack.url(path), headers=bearer(tokens))
        assert shown.status_code == 200 and shown.json() == answer
        assert shown.headers["Cache-Control"] == "no-store"


def test_deleting_the_account_ends_every_token_and_frees_the_email(stack, http):
    user, first = new_user(http, stack)
    second = login(http, stack, user["username"])
    wrong = http.delete(stack.url("/api/v1/users/me"), headers=bearer(first), json={"password": "WrongPass123"})
    assert wrong.status_code == 400 and wrong.json() == {"detail": "Incorrect password"}
    assert wrong.headers["Cache-Control"] == "no-store"

    deleted = http.delete(stack.url("/api/v1/users/me"), headers=bearer(second), json={"password": PASSWORD})
    assert deleted.status_code == 200 and deleted.json() == {"message": "Account deleted"}
    for tokens in (first, second):
        assert http.get(stack.url("/api/v1/users/me"), headers=bearer(tokens)).status_code == 401
        assert http.post(stack.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert psql(f"SELECT count(*) FROM users WHERE id = '{user['id']}'", url=stack.database_url) == "0"
    assert psql(f"SELECT count(*) FROM user_sessions WHERE user_id = '{user['id']}'", url=stack.database_url) == "0"
    again = register(http, stack, email=user["email"], username=user["username"])
    assert again["id"] != user["id"]
    assert login(http, stack, user["email"])["access_token"]


def test_a_deletion_without_a_live_token_changes_nothing(stack):
    answer = requests.delete(stack.url("/api/v1/users/me"), json={"password": PASSWORD})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == {"detail": "Not authenticated"}


def test_the_export_is_an_attachment_through_nginx(stack, http):
    user, tokens = new_user(http, stack)
    response = http.get(stack.url("/api/v1/users/me/export"), headers=bearer(tokens))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="user-service-export-{user["id"]}.json"'
    assert response.headers["Cache-Control"] == "no-store"
    export = response.json()
    assert export["account"]["id"] == user["id"] and export["security_events"][0]["type"] == "data_export"
    stats = http.get(stack.url("/api/v1/users/me/stats"), headers=bearer(tokens)).json()
    assert stats["live_sessions"] == 1 and stats["logins"]["count"] == 1
