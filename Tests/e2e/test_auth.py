"""Authentication end to end through nginx: what needs nginx, processes, real concurrent connections or Python's
bcrypt and PyJWT. The handlers and their SQL are tested without them, at the `Application` level against the real
PostgreSQL, in Tests/UserServiceTests/Auth*Tests.swift."""
import concurrent.futures
import json
import os
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


# --- refresh ---------------------------------------------------------------------------------------------------

def refresh(http, stack, token):
    return http.post(stack.url("/api/v1/auth/refresh"), json={"refresh_token": token})


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
    events = http.get(stack.url("/api/v1/auth/events"), headers=bearer(laptop)).json()["items"]
    assert [e["type"] for e in events] == ["login_success", "login_success"]
    assert {e["ip_address"] for e in events} == {"127.0.0.1"}  # the events record the same address
    assert {"id", "created_at", "last_activity", "expires_at"} <= set(sessions[0])
    assert http.get(stack.url("/api/v1/auth/sessions"), headers=bearer(phone)).status_code == 200


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
