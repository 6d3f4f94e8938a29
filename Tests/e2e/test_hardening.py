"""Authentication hardening end to end: per-account throttling under parallel guesses, key rotation on reload, the
cleanup command, and login timing. Reuse detection, the throttle's sequence, common passwords and security events
are tested at the `Application` level in Tests/UserServiceTests/Auth*Tests.swift."""
import concurrent.futures
import os
import random
import secrets
import signal
import statistics
import subprocess
import time
import uuid

import jwt
import requests

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import BIN, psql, wait_for


def refresh(stack, token):
    return requests.post(stack.url("/api/v1/auth/refresh"), json={"refresh_token": token})


def me(stack, tokens):
    return requests.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens))


def event_types(stack, user_id):
    return psql(f"SELECT string_agg(type, ',' ORDER BY id) FROM security_events WHERE user_id = '{user_id}'",
                url=stack.database_url).split(",")


def pass_time(stack, table, columns, seconds, where="true"):
    """Moves the clock for some rows instead of waiting: their timestamps go `seconds` into the past."""
    shifted = ", ".join(f"{c} = {c} - make_interval(secs => {seconds})" for c in columns)
    psql(f"UPDATE {table} SET {shifted} WHERE {where}", url=stack.database_url)


# --- per-account throttling -------------------------------------------------------------------------------------

# Blocks far longer than the test takes; they end by moving the throttle's clock in the database (pass_block).
THROTTLE = {"LOGIN_THROTTLE_LIMIT": "3", "LOGIN_THROTTLE_BASE_DELAY_SECONDS": "30",
            "LOGIN_THROTTLE_MAX_DELAY_SECONDS": "60"}


def pass_block(stack, seconds):
    """As if `seconds` had passed for every throttle counter: the block ends, the counting window does not."""
    pass_time(stack, "login_throttle", ["blocked_until", "updated_at"], seconds)


def parallel_logins(stack, identifier, password, count=10):
    def attempt(_):
        return requests.post(stack.url("/api/v1/auth/login"), json={"email": identifier, "password": password})

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(attempt, range(count)))


def test_parallel_guesses_are_cut_off_exactly_at_the_limit(make_stack, http):
    s = make_stack(name="throttle", workers=2, env=THROTTLE)
    user = register(http, s)
    responses = parallel_logins(s, user["email"], "WrongPass123")
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 3 + [429] * 7
    limited = [r for r in responses if r.status_code == 429][0]
    assert limited.json() == {"detail": "Too many login attempts. Try again later."}
    assert 0 < int(limited.headers["Retry-After"]) <= 30
    # Only the three counted guesses were checked against the hash.
    assert event_types(s, user["id"]).count("login_failure") == 3
    # Even the right password is refused while blocked.
    right = http.post(s.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD})
    assert right.status_code == 429
    # The block ends: the right password then gets in.
    pass_block(s, 30)
    login(http, s, user["email"])


def test_unknown_identifiers_are_throttled_the_same_way(make_stack):
    s = make_stack(name="throttle-unknown", workers=2, env=THROTTLE)
    statuses = sorted(r.status_code for r in parallel_logins(s, f"nobody-{uuid.uuid4().hex[:6]}@example.com", PASSWORD))
    assert statuses == [401] * 3 + [429] * 7


# --- key rotation -----------------------------------------------------------------------------------------------

def test_key_rotation_keeps_old_tokens_valid(make_stack, http):
    s = make_stack(name="rotation", workers=2)
    old_secret = s.settings["JWT_SECRET_KEY"]
    user, old_tokens = new_user(http, s)
    new_secret = secrets.token_hex(32)
    s.settings.update({"JWT_KEY_ID": "2", "JWT_SECRET_KEY": new_secret, "JWT_PREVIOUS_SECRET_KEYS": f"1:{old_secret}"})
    s.write_env(s.settings)
    s.signal_pool(signal.SIGHUP)
    wait_for(lambda: "reload complete" in s.pool_log(), message="reload")
    assert me(s, old_tokens).json()["id"] == user["id"]
    new_tokens = login(http, s, user["email"])
    assert jwt.get_unverified_header(new_tokens["access_token"])["kid"] == "2"
    jwt.decode(new_tokens["access_token"], new_secret, algorithms=["HS256"], audience="user-service")
    assert me(s, new_tokens).status_code == 200
    # A kid names its key: the old kid with the new secret does not verify.
    claims = jwt.decode(new_tokens["access_token"], new_secret, algorithms=["HS256"], audience="user-service")
    crossed = jwt.encode(claims, new_secret, algorithm="HS256", headers={"kid": "1"})
    assert requests.get(s.url("/api/v1/auth/me"), headers={"Authorization": f"Bearer {crossed}"}).status_code == 401
    # Dropping the previous key retires its tokens.
    del s.settings["JWT_PREVIOUS_SECRET_KEYS"]
    s.write_env(s.settings)
    log_length = len(s.pool_log())
    s.signal_pool(signal.SIGHUP)
    wait_for(lambda: "reload complete" in s.pool_log()[log_length:], message="second reload")
    assert me(s, old_tokens).status_code == 401
    assert me(s, new_tokens).status_code == 200


# --- cleanup ----------------------------------------------------------------------------------------------------

def test_cleanup_removes_only_what_is_old(make_stack, http):
    s = make_stack(name="cleanup", workers=1)
    old_user, old_tokens = new_user(http, s)
    fresh_user, fresh_tokens = new_user(http, s)
    rotated = refresh(s, fresh_tokens["refresh_token"]).json()
    old_sid = jwt.decode(old_tokens["access_token"], options={"verify_signature": False})["sid"]
    psql(f"""UPDATE user_sessions SET revoked_at = now() - interval '40 days', created_at = now() - interval '41 days'
             WHERE id = '{old_sid}';
             UPDATE refresh_tokens SET revoked_at = now() - interval '40 days' WHERE session_id = '{old_sid}';
             INSERT INTO login_throttle (identifier, attempts, updated_at) VALUES ('stale@example.com', 2, now() - interval '2 days'),
                    ('recent@example.com', 2, now());
             INSERT INTO security_events (user_id, type, created_at) VALUES ('{old_user['id']}', 'logout', now() - interval '100 days');
             INSERT INTO directory_requests (user_id, window_started_at, requests) VALUES ('{old_user['id']}', now() - interval '2 days', 5),
                    ('{fresh_user['id']}', now(), 1);""",
         url=s.database_url)
    counts = "SELECT (SELECT count(*) FROM user_sessions), (SELECT count(*) FROM refresh_tokens), " \
             "(SELECT count(*) FROM login_throttle) + (SELECT count(*) FROM directory_requests), (SELECT count(*) FROM security_events)"
    before = [int(x) for x in psql(counts, url=s.database_url).split("|")]
    result = subprocess.run([BIN, "cleanup", "--env-file", s.env_file], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "cleanup removed 1 sessions, 1 refresh tokens, 2 throttle counters, 1 security events" in result.stderr
    after = [int(x) for x in psql(counts, url=s.database_url).split("|")]
    assert after == [before[0] - 1, before[1] - 1, before[2] - 2, before[3] - 1]
    # What is recent stays, including the rotated-away token that reuse detection needs.
    assert me(s, rotated).status_code == 200
    assert psql("SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL", url=s.database_url) == "1"
    assert psql("SELECT identifier FROM login_throttle", url=s.database_url) == "recent@example.com"
    assert psql("SELECT user_id FROM directory_requests", url=s.database_url) == fresh_user["id"]
    # Running again finds nothing.
    again = subprocess.run([BIN, "cleanup", "--env-file", s.env_file], capture_output=True, text=True, timeout=60)
    assert "cleanup removed 0 sessions, 0 refresh tokens, 0 throttle counters, 0 security events" in again.stderr


# --- timing -----------------------------------------------------------------------------------------------------

def test_unknown_login_costs_as_much_as_a_wrong_password(make_stack, http):
    """Compared on medians of many interleaved samples (in random order, so a burst of load from elsewhere on the
    machine hits both kinds alike), with a tolerant ratio; no absolute time."""
    s = make_stack(name="timing", workers=1, env={"BCRYPT_ROUNDS": "10", "LOGIN_THROTTLE_LIMIT": "1000000"})
    user = register(http, s)

    def timed(body, status):
        started = time.perf_counter()
        response = http.post(s.url("/api/v1/auth/login"), json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == status, response.text
        return elapsed

    kinds = {
        "known": lambda: timed({"email": user["email"], "password": "WrongPass123"}, 401),
        "unknown": lambda: timed({"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "WrongPass123"}, 401),
        "no hash": lambda: timed({"email": user["email"]}, 422),  # the same route without bcrypt: the baseline
    }
    kinds["unknown"]()  # warm-up (the dummy hash may be made on first use)
    samples = {kind: [] for kind in kinds}
    rng = random.Random(11)
    for _ in range(25):
        order = list(kinds)
        rng.shuffle(order)
        for kind in order:
            samples[kind].append(kinds[kind]())
    known, unknown, baseline = (statistics.median(samples[k]) for k in ("known", "unknown", "no hash"))
    assert known > 3 * baseline, samples  # a real bcrypt cost was paid
    assert 0.6 * known <= unknown <= 1.67 * known, samples
