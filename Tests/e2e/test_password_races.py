"""Passwords under concurrency and load: a login or a change-password that checked a hash which changed meanwhile
loses; stored hashes are brought up to the configured cost; the dummy hash for
unknown accounts is made at worker start. Races are made deterministic by holding the user's row locked from the
test's own connection while the request is in flight. The per-account limit on change-password is tested at the
`Application` level (AuthThrottleTests.changePasswordIsLimitedPerAccount)."""
import concurrent.futures
import re

import bcrypt
import requests

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import HeldTransaction, psql, wait_for

NEW_PASSWORD = "EvenBetterPass456"


def stored_hash(stack, user_id):
    return psql(f"SELECT hashed_password FROM users WHERE id = '{user_id}'", url=stack.database_url)


def python_hash(password, cost=4):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


def metric(stack, name):
    text = requests.get(stack.url("/metrics")).text
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    assert match, f"{name} not in /metrics"
    return int(match.group(1))


def in_flight(request):
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = executor.submit(request)
    executor.shutdown(wait=False)
    return future


def test_login_with_the_old_password_loses_to_a_change_committed_meanwhile(make_stack, http):
    # The stored hash is cheaper than the configured cost, so the login also brings an upgraded hash of the old
    # password: it must not be written back either.
    s = make_stack(name="loginrace", workers=2, env={"BCRYPT_ROUNDS": "5"})
    user = register(http, s)
    psql(f"UPDATE users SET hashed_password = '{python_hash(PASSWORD, 4)}' WHERE id = '{user['id']}'", url=s.database_url)
    theirs = python_hash(NEW_PASSWORD)
    row = HeldTransaction(s.database_url, f"SELECT id FROM users WHERE id = '{user['id']}' FOR NO KEY UPDATE")
    attempt = in_flight(lambda: requests.post(s.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD}))
    row.wait_for_waiter()  # the old password was checked; the session waits for the row
    row.commit(f"UPDATE users SET hashed_password = '{theirs}' WHERE id = '{user['id']}'")
    response = attempt.result(timeout=30)
    assert response.status_code == 401 and response.json() == {"detail": "Incorrect email or password"}
    assert psql(f"SELECT count(*) FROM user_sessions WHERE user_id = '{user['id']}'", url=s.database_url) == "0"
    assert stored_hash(s, user["id"]) == theirs
    assert psql(f"SELECT count(*) FROM security_events WHERE user_id = '{user['id']}' AND type = 'login_failure'",
                url=s.database_url) == "1"
    assert login(http, s, user["email"], NEW_PASSWORD)["access_token"]


def change_password(stack, tokens, current=PASSWORD, new=NEW_PASSWORD):
    return requests.post(stack.url("/api/v1/auth/change-password"), headers=bearer(tokens),
                         json={"current_password": current, "new_password": new, "confirm_password": new})


def session_id(stack, user_id):
    return psql(f"SELECT id FROM user_sessions WHERE user_id = '{user_id}'", url=stack.database_url)


def test_change_password_loses_when_its_session_is_revoked_meanwhile(stack, http):
    user, tokens = new_user(http, stack)
    before = stored_hash(stack, user["id"])
    # A revocation in progress (as an administrator's SQL would make it) holds the caller's session row.
    revocation = HeldTransaction(stack.database_url,
                                 f"UPDATE user_sessions SET revoked_at = now() WHERE id = '{session_id(stack, user['id'])}'")
    attempt = in_flight(lambda: change_password(stack, tokens))
    revocation.wait_for_waiter()  # authenticated, current password checked; the change waits for the session row
    revocation.commit()
    response = attempt.result(timeout=30)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert stored_hash(stack, user["id"]) == before
    assert login(http, stack, user["email"], PASSWORD)


def test_change_password_and_logout_all_from_another_device_do_not_deadlock(stack, http):
    user, first = new_user(http, stack)
    second = login(http, stack, user["email"])
    second_session = psql(f"SELECT id FROM user_sessions WHERE user_id = '{user['id']}' ORDER BY created_at DESC LIMIT 1",
                          url=stack.database_url)
    # Holding the changing session's row makes a logout-all wait on it halfway through the user's sessions.
    hold = HeldTransaction(stack.database_url, f"SELECT id FROM user_sessions WHERE id = '{second_session}' FOR SHARE")
    logout_all = in_flight(lambda: requests.post(stack.url("/api/v1/auth/logout-all"), headers=bearer(first)))
    hold.wait_for_waiter()
    change = in_flight(lambda: change_password(stack, second))
    wait_for(lambda: psql("SELECT count(*) FROM pg_locks WHERE NOT granted", url=stack.database_url) not in ("0", "1"),
             message="both requests waiting")
    hold.commit()
    assert logout_all.result(timeout=30).status_code == 200
    assert change.result(timeout=30).status_code == 401  # its session was revoked first: no 500, no deadlock
    assert login(http, stack, user["email"], PASSWORD)


def test_change_password_does_not_overwrite_a_change_committed_meanwhile(stack, http):
    user, tokens = new_user(http, stack)
    theirs = python_hash("TheirNewPass789")
    row = HeldTransaction(stack.database_url, f"SELECT id FROM users WHERE id = '{user['id']}' FOR NO KEY UPDATE")
    attempt = in_flight(lambda: change_password(stack, tokens))
    row.wait_for_waiter()
    row.commit(f"UPDATE users SET hashed_password = '{theirs}' WHERE id = '{user['id']}'")
    assert attempt.result(timeout=30).status_code == 401
    assert stored_hash(stack, user["id"]) == theirs
    events = psql(f"SELECT count(*) FROM security_events WHERE user_id = '{user['id']}' AND type = 'password_change'",
                  url=stack.database_url)
    assert events == "0"


def test_dummy_hash_is_made_at_worker_start(make_stack):
    s = make_stack(name="dummy", workers=1)
    assert metric(s, "user_service_password_hashes_total") == 1  # the dummy, before any login
    response = requests.post(s.url("/api/v1/auth/login"), json={"email": "nobody@example.com", "password": "Whatever123"})
    assert response.status_code == 401
    assert metric(s, "user_service_password_hashes_total") == 2  # one verification, no second hash


def test_a_cheaper_stored_hash_is_upgraded_at_login(make_stack, http):
    s = make_stack(name="rehash", workers=1, env={"BCRYPT_ROUNDS": "5"})
    cheap, dearer = register(http, s), register(http, s)
    psql(f"UPDATE users SET hashed_password = '{python_hash(PASSWORD, 4)}' WHERE id = '{cheap['id']}';"
         f"UPDATE users SET hashed_password = '{python_hash(PASSWORD, 6)}' WHERE id = '{dearer['id']}'", url=s.database_url)
    dearer_hash = stored_hash(s, dearer["id"])
    login(http, s, cheap["email"])
    upgraded = stored_hash(s, cheap["id"])
    assert upgraded.startswith("$2b$05$") and bcrypt.checkpw(PASSWORD.encode(), upgraded.encode())
    login(http, s, cheap["email"])
    assert stored_hash(s, cheap["id"]) == upgraded  # once
    login(http, s, dearer["email"])
    assert stored_hash(s, dearer["id"]) == dearer_hash  # never lowered


def test_a_multi_byte_password_cut_at_72_bytes_logs_in(stack, http):
    password = "a" * 71 + "é"  # 73 bytes: the cut splits "é"
    user = register(http, stack)
    cut = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()  # as passlib stored it
    psql(f"UPDATE users SET hashed_password = '{cut}' WHERE id = '{user['id']}'", url=stack.database_url)
    assert login(http, stack, user["email"], password)


def test_long_user_agents_are_truncated_not_refused(stack, http):
    user = register(http, stack)
    agent = ("a" + "\u0301" * 600).encode()  # one grapheme of 601 code points
    response = http.post(stack.url("/api/v1/auth/login"), json={"email": user["email"], "password": PASSWORD},
                         headers={"User-Agent": agent})
    assert response.status_code == 200, response.text
    stored = psql(f"SELECT length(user_agent) FROM user_sessions WHERE user_id = '{user['id']}'", url=stack.database_url)
    assert stored == "512"
