"""Authentication end to end through nginx: registration, login, tokens, refresh, sessions, revocation."""
import concurrent.futures
import json
import os
import re
import subprocess
import time
import uuid

import bcrypt
import jwt
import pytest
import requests

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import psql


# --- the seed's examples ----------------------------------------------------------------------------------------

SEED_README = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "seed", "user-service-README.md")


def test_seed_curl_examples_run_as_written(stack):
    """The replaced service's README examples, byte for byte, only pointed at this stack's port."""
    register_body = """{
    "email": "user@example.com",
    "username": "testuser",
    "full_name": "Test User",
    "password": "SecurePass123",
    "confirm_password": "SecurePass123"
  }"""
    login_body = """{
    "email": "user@example.com",
    "password": "SecurePass123"
  }"""
    if os.path.exists(SEED_README):
        readme = open(SEED_README).read()
        assert register_body in readme and login_body in readme
    def curl(path, body):
        out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-X", "POST", stack.url(path),
                              "-H", "Content-Type: application/json", "-d", body], capture_output=True, text=True).stdout
        text, status = out.rsplit("\n", 1)
        return int(status), json.loads(text)

    status, user = curl("/api/v1/auth/register", register_body)
    assert status == 201 and user["email"] == "user@example.com" and user["username"] == "testuser"
    status, tokens = curl("/api/v1/auth/login", login_body)
    assert status == 200
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 1800


# --- registration ----------------------------------------------------------------------------------------------

def test_register_returns_the_user_without_the_hash(stack, http):
    user = register(http, stack, email="  Mixed.Case@Example.COM ", username="Mixed_Case." + uuid.uuid4().hex[:6])
    assert set(user) == {"id", "email", "username", "full_name", "is_active", "is_verified", "is_premium",
                         "created_at", "updated_at", "last_login"}
    assert user["email"] == "mixed.case@example.com"
    assert user["is_active"] is True and user["is_verified"] is False and user["is_premium"] is False
    assert user["last_login"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", user["created_at"])
    uuid.UUID(user["id"])
    stored = psql(f"SELECT hashed_password FROM users WHERE id = '{user['id']}'", url=stack.database_url)
    assert stored.startswith("$2b$04$")


def detail_of(response):
    assert response.status_code == 422, response.text
    return {(tuple(item["loc"]), item["type"]): item["msg"] for item in response.json()["detail"]}


def test_register_validation_errors(stack, http):
    url = stack.url("/api/v1/auth/register")
    missing = detail_of(http.post(url, json={}))
    for field in ("email", "username", "password", "confirm_password"):
        assert missing[(("body", field), "missing")] == "Field required"

    def problems(**fields):
        body = {"email": "ok@example.com", "username": "okname", "password": PASSWORD, "confirm_password": PASSWORD}
        body.update(fields)
        return detail_of(http.post(url, json=body))

    assert ("body", "email") in {loc for loc, _ in problems(email="not-an-email")}
    assert "letters, digits" in problems(username="a@b")[(("body", "username"), "value_error")]
    assert ("body", "username") in {loc for loc, _ in problems(username="ab")}
    for password, words in (("Short1A", "at least 8"), ("alllowercase1", "uppercase"), ("ALLUPPER1", "lowercase"),
                            ("NoDigitsHere", "digit"), ("Aa1" * 25, "72 bytes"), ("Abcdefg1\u0000", "NUL")):
        messages = [msg for (loc, _), msg in problems(password=password, confirm_password=password).items()
                    if loc == ("body", "password")]
        assert any(words in m for m in messages), (password, messages)
    assert "same as the email" in " ".join(problems(email="Pass1word@x.io".lower(), password="Pass1word@x.IO",
                                                    confirm_password="Pass1word@x.IO").values())
    assert "same as the username" in " ".join(problems(username="Okname123", password="okNAME123",
                                                       confirm_password="okNAME123").values())
    assert problems(confirm_password="Different123")[(("body", "confirm_password"), "value_error")] == \
        "Value error, Passwords do not match"
    assert (("body", "email"), "string_type") in problems(email=5)


def test_register_body_handling(stack, http):
    url = stack.url("/api/v1/auth/register")
    bad = http.post(url, data=b'{"email": ', headers={"Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "json_invalid"
    deep = http.post(url, data=b"[" * 5000 + b"]" * 5000, headers={"Content-Type": "application/json"})
    assert deep.status_code == 422 and deep.json()["detail"][0]["type"] == "json_invalid"
    huge = http.post(url, data=b'{"email": "' + b"a" * 70000 + b'"}', headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json() == {"detail": "Request body too large"}
    not_object = http.post(url, json=[1, 2])
    assert not_object.status_code == 422 and not_object.json()["detail"][0]["type"] == "model_attributes_type"
    # The service is still answering.
    assert http.get(stack.url("/health")).status_code == 200


def test_duplicate_email_or_username_in_any_case_is_409(stack, http):
    user = register(http, stack)
    again = {"email": user["email"].upper(), "username": "other_" + uuid.uuid4().hex[:6], "password": PASSWORD,
             "confirm_password": PASSWORD}
    response = http.post(stack.url("/api/v1/auth/register"), json=again)
    assert response.status_code == 409 and response.json() == {"detail": "Email already registered"}
    again = {"email": uuid.uuid4().hex[:8] + "@example.com", "username": user["username"].upper(), "password": PASSWORD,
             "confirm_password": PASSWORD}
    response = http.post(stack.url("/api/v1/auth/register"), json=again)
    assert response.status_code == 409 and response.json() == {"detail": "Username already taken"}


def test_concurrent_duplicate_registration_exactly_one_wins(stack):
    name = uuid.uuid4().hex[:8]
    body = {"email": f"race{name}@example.com", "password": PASSWORD, "confirm_password": PASSWORD}

    def attempt(i):
        return requests.post(stack.url("/api/v1/auth/register"), json=dict(body, username=f"race{name}{i}")).status_code

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(attempt, range(6)))
    assert sorted(statuses) == [201] + [409] * 5
    assert psql(f"SELECT count(*) FROM users WHERE email = 'race{name}@example.com'", url=stack.database_url) == "1"


# --- login -----------------------------------------------------------------------------------------------------

def test_login_by_email_or_username_in_any_case(stack, http):
    user = register(http, stack)
    for identifier in (user["email"], user["email"].upper(), user["username"], user["username"].upper()):
        login(http, stack, identifier)
    last_login = http.get(stack.url("/api/v1/auth/me"), headers=bearer(login(http, stack, user["email"]))).json()["last_login"]
    assert last_login is not None


def test_wrong_password_and_unknown_account_look_the_same(stack, http):
    user = register(http, stack)
    wrong = http.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": "WrongPass123"})
    unknown = http.post(stack.url("/api/v1/auth/login"), json={"email": "nobody-" + user["email"], "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect email or password"}
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == "Bearer"


def test_inactive_account_is_403_only_after_the_right_password(stack, http):
    user = register(http, stack)
    psql(f"UPDATE users SET is_active = false WHERE id = '{user['id']}'", url=stack.database_url)
    wrong = http.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": "WrongPass123"})
    assert wrong.status_code == 401
    right = http.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD})
    assert right.status_code == 403 and right.json() == {"detail": "Inactive user"}


@pytest.mark.parametrize("prefix", [b"2a", b"2b"])
def test_hashes_made_by_python_bcrypt_log_in(stack, http, prefix):
    user = register(http, stack)
    hashed = bcrypt.hashpw(b"MigratedPass9", bcrypt.gensalt(5, prefix=prefix)).decode()
    psql(f"UPDATE users SET hashed_password = '{hashed}' WHERE id = '{user['id']}'", url=stack.database_url)
    login(http, stack, user["email"], password="MigratedPass9")


def test_migrated_password_over_72_bytes_logs_in_as_passlib_did(stack, http):
    user = register(http, stack)
    long_password = "Migrated1" * 10  # 90 bytes: passlib hashed the first 72
    hashed = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(5)).decode()
    psql(f"UPDATE users SET hashed_password = '{hashed}' WHERE id = '{user['id']}'", url=stack.database_url)
    login(http, stack, user["email"], password=long_password)


# --- access tokens ---------------------------------------------------------------------------------------------

def secret(stack):
    return stack.settings["JWT_SECRET_KEY"]


def test_access_token_checked_by_pyjwt(stack, http):
    before = int(time.time())
    user, tokens = new_user(http, stack)
    after = time.time()
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header == {"alg": "HS256", "typ": "JWT", "kid": "1"}
    claims = jwt.decode(tokens["access_token"], secret(stack), algorithms=["HS256"], audience="user-service",
                        issuer="user-service")
    assert claims["sub"] == user["id"] and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 1800
    assert {"sid", "jti"} <= set(claims)
    assert before <= claims["iat"] <= after  # issued while the test waited for it


def forged(stack, claims, key=None, algorithm="HS256", headers=None):
    return jwt.encode(claims, key or secret(stack), algorithm=algorithm, headers=headers if headers is not None else {"kid": "1"})


def test_tokens_signed_by_pyjwt_are_accepted_and_bad_ones_refused(stack, http):
    user, tokens = new_user(http, stack)
    claims = jwt.decode(tokens["access_token"], secret(stack), algorithms=["HS256"], audience="user-service")
    me = stack.url("/api/v1/auth/me")
    good = forged(stack, claims)
    assert http.get(me, headers={"Authorization": f"Bearer {good}"}).json()["id"] == user["id"]

    now = int(time.time())
    refused = {
        "tampered": tokens["access_token"][:-4] + ("AAAA" if not tokens["access_token"].endswith("AAAA") else "BBBB"),
        "expired": forged(stack, dict(claims, exp=now - 120, iat=now - 1000)),
        "wrong aud": forged(stack, dict(claims, aud="another-service")),
        "wrong iss": forged(stack, dict(claims, iss="evil")),
        "wrong type": forged(stack, dict(claims, type="refresh")),
        "other key": forged(stack, claims, key="x" * 32),
        "HS512": forged(stack, claims, algorithm="HS512"),
        "unknown kid": forged(stack, claims, headers={"kid": "99"}),
        "no kid": forged(stack, claims, headers={}),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "jwk header": forged(stack, claims, key="k" * 32, headers={"kid": "1", "jwk": {"kty": "oct", "k": "a2traw"}}),
        "garbage": "not-a-jwt",
    }
    for name, token in refused.items():
        response = http.get(me, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"] == "Bearer", name
        assert response.json() == {"detail": "Could not validate credentials"}, name
    missing = http.get(me)
    assert missing.status_code == 401 and missing.json() == {"detail": "Not authenticated"}
    assert missing.headers["WWW-Authenticate"] == "Bearer"


def test_protected_endpoints_all_require_a_token(stack, http):
    for method, path in (("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all"),
                         ("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/change-password"),
                         ("GET", "/api/v1/auth/sessions"), ("DELETE", f"/api/v1/auth/sessions/{uuid.uuid4()}")):
        response = http.request(method, stack.url(path))
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer", path


# --- refresh ---------------------------------------------------------------------------------------------------

def refresh(http, stack, token):
    return http.post(stack.url("/api/v1/auth/refresh"), json={"refresh_token": token})


def test_refresh_rotates(stack, http):
    user, tokens = new_user(http, stack)
    first = refresh(http, stack, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(rotated)).json()["id"] == user["id"]
    # Same session: the new access token carries the same sid.
    old_sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    assert jwt.decode(rotated["access_token"], options={"verify_signature": False})["sid"] == old_sid
    again = refresh(http, stack, tokens["refresh_token"])
    assert again.status_code == 401 and again.json() == {"detail": "Invalid refresh token"}
    assert refresh(http, stack, "made-up-token").status_code == 401
    assert refresh(http, stack, rotated["refresh_token"]).status_code == 200
    # Stored only as a hash.
    stored = psql("SELECT encode(token_hash, 'hex') FROM refresh_tokens", url=stack.database_url)
    assert rotated["refresh_token"] not in stored


def test_concurrent_double_refresh_yields_one_new_pair(stack):
    with requests.Session() as http:
        _, tokens = new_user(http, stack)
    for _ in range(3):
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda _: requests.post(stack.url("/api/v1/auth/refresh"),
                                                              json={"refresh_token": tokens["refresh_token"]}),
                                      range(4)))
        winners = [r for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.status_code for r in responses]
        tokens = winners[0].json()


# --- sessions and revocation -----------------------------------------------------------------------------------

def test_sessions_are_listed_with_device_and_current_flag(stack, http):
    user = register(http, stack)
    phone = login(http, stack, user["email"], **{"User-Agent": "PhoneApp/1.0", "X-Forwarded-For": "198.51.100.7"})
    laptop = login(http, stack, user["email"], **{"User-Agent": "Laptop/2.0"})
    sessions = http.get(stack.url("/api/v1/auth/sessions"), headers=bearer(laptop)).json()
    assert len(sessions) == 2
    by_agent = {s["user_agent"]: s for s in sessions}
    assert by_agent["Laptop/2.0"]["is_current"] is True and by_agent["PhoneApp/1.0"]["is_current"] is False
    assert {s["ip_address"] for s in sessions} == {"127.0.0.1"}  # never a client-supplied header
    assert {"id", "created_at", "last_activity", "expires_at"} <= set(sessions[0])
    assert http.get(stack.url("/api/v1/auth/sessions"), headers=bearer(phone)).status_code == 200


def test_logout_revokes_this_session_immediately(stack, http):
    user, tokens = new_user(http, stack)
    other = login(http, stack, user["email"])
    response = http.post(stack.url("/api/v1/auth/logout"), headers=bearer(tokens),
                         json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 401
    assert refresh(http, stack, tokens["refresh_token"]).status_code == 401
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(other)).status_code == 200
    # A logout without a body works too.
    assert http.post(stack.url("/api/v1/auth/logout"), headers=bearer(other)).status_code == 200
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(other)).status_code == 401


def test_logout_all_revokes_every_session(stack, http):
    user = register(http, stack)
    logins = [login(http, stack, user["email"]) for _ in range(3)]
    response = http.post(stack.url("/api/v1/auth/logout-all"), headers=bearer(logins[0]))
    assert response.status_code == 200 and response.json()["sessions_revoked"] == 3
    for tokens in logins:
        assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 401
        assert refresh(http, stack, tokens["refresh_token"]).status_code == 401


def test_revoking_one_session(stack, http):
    user = register(http, stack)
    a, b = login(http, stack, user["email"]), login(http, stack, user["email"])
    sid_b = jwt.decode(b["access_token"], options={"verify_signature": False})["sid"]
    _, stranger = new_user(http, stack)
    stranger_sid = jwt.decode(stranger["access_token"], options={"verify_signature": False})["sid"]
    for session_id in (stranger_sid, str(uuid.uuid4()), "not-a-uuid"):
        response = http.delete(stack.url(f"/api/v1/auth/sessions/{session_id}"), headers=bearer(a))
        assert response.status_code == 404 and response.json() == {"detail": "Session not found"}
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(stranger)).status_code == 200
    assert http.delete(stack.url(f"/api/v1/auth/sessions/{sid_b}"), headers=bearer(a)).status_code == 200
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(b)).status_code == 401
    assert refresh(http, stack, b["refresh_token"]).status_code == 401
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(a)).status_code == 200
    assert http.delete(stack.url(f"/api/v1/auth/sessions/{sid_b}"), headers=bearer(a)).status_code == 404


def test_deactivated_account_loses_access_immediately(stack, http):
    user, tokens = new_user(http, stack)
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200
    psql(f"UPDATE users SET is_active = false WHERE id = '{user['id']}'", url=stack.database_url)
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 401
    assert refresh(http, stack, tokens["refresh_token"]).status_code == 401


def test_last_seen_is_not_written_on_every_read(stack, http):
    _, tokens = new_user(http, stack)
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    query = f"SELECT last_seen_at FROM user_sessions WHERE id = '{sid}'"
    before = psql(query, url=stack.database_url)
    for _ in range(5):
        assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200
    assert psql(query, url=stack.database_url) == before
    psql(f"UPDATE user_sessions SET last_seen_at = now() - interval '1 hour' WHERE id = '{sid}'", url=stack.database_url)
    stale = psql(query, url=stack.database_url)
    http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens))
    assert psql(query, url=stack.database_url) > stale


# --- change password -------------------------------------------------------------------------------------------

def test_change_password(stack, http):
    user, tokens = new_user(http, stack)
    other = login(http, stack, user["email"])
    url = stack.url("/api/v1/auth/change-password")
    wrong = http.post(url, headers=bearer(tokens), json={"current_password": "WrongPass123", "new_password": "NewPass456",
                                                          "confirm_password": "NewPass456"})
    assert wrong.status_code == 400 and wrong.json() == {"detail": "Incorrect current password"}
    weak = http.post(url, headers=bearer(tokens), json={"current_password": PASSWORD, "new_password": "weak",
                                                         "confirm_password": "weak"})
    assert weak.status_code == 422
    mismatch = http.post(url, headers=bearer(tokens), json={"current_password": PASSWORD, "new_password": "NewPass456",
                                                             "confirm_password": "NewPass457"})
    assert mismatch.status_code == 422
    ok = http.post(url, headers=bearer(tokens), json={"current_password": PASSWORD, "new_password": "NewPass456",
                                                       "confirm_password": "NewPass456"})
    assert ok.status_code == 200
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200
    assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(other)).status_code == 401
    assert refresh(http, stack, other["refresh_token"]).status_code == 401
    assert http.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD}).status_code == 401
    login(http, stack, user["email"], password="NewPass456")


# --- nothing secret leaks --------------------------------------------------------------------------------------

def test_no_secret_in_bodies_or_logs(make_stack):
    s = make_stack(name="leaks", workers=1)
    secret_password = "Leak" + uuid.uuid4().hex[:8] + "9Z"
    with requests.Session() as http:
        user = register(http, s, password=secret_password, confirm_password=secret_password)
        tokens = login(http, s, user["email"], password=secret_password)
        bodies = [json.dumps(user)]
        bodies.append(http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).text)
        bodies.append(http.get(s.url("/api/v1/auth/sessions"), headers=bearer(tokens)).text)
        bodies.append(http.post(s.url("/api/v1/auth/login"), json={"email": user["email"], "password": secret_password + "x"}).text)
        bodies.append(http.post(s.url("/api/v1/auth/register"), json={"email": user["email"], "username": "zz",
                                                                        "password": secret_password, "confirm_password": "y"}).text)
        bodies.append(http.get(s.url("/api/v1/auth/me"), headers={"Authorization": "Bearer " + tokens["access_token"] + "x"}).text)
        refreshed = refresh(http, s, tokens["refresh_token"]).json()
        bodies.append(http.post(s.url("/api/v1/auth/change-password"), headers=bearer(refreshed),
                                json={"current_password": secret_password, "new_password": "weak",
                                      "confirm_password": "weak"}).text)
    stored_hash = psql(f"SELECT hashed_password FROM users WHERE id = '{user['id']}'", url=s.database_url)
    s.stop()  # every line written
    log = s.pool_log()
    for text in bodies[1:] + [log]:
        assert secret_password not in text
        assert stored_hash not in text
        assert tokens["refresh_token"] not in text
        assert tokens["access_token"].split(".")[2] not in text
        assert "Bearer" not in text
    assert s.settings["JWT_SECRET_KEY"] not in log
    assert "route=/api/v1/auth/login status=200" in log
