"""Issue 18: the workers' session cache, through nginx, on pools of several workers.

A revocation made through the API holds from the very next request on the same pool, whichever worker answers it,
though every worker had the session cached; one made by direct SQL holds once PostgreSQL has delivered its
notification (polled); a second pool on the same database ("another host") refuses once notified (polled); a worker
whose connection was ended never answers from what it cached before, and caches again once it listens again; an
entry never answers for another session or user. The cache's lifetime is a minute here, far longer than any wait
below (the polls for a notification share a deadline of 20 s), so no refusal can come from an entry's age. Which worker answers is the kernel's choice: the tests send
requests until each worker has answered (the request log names the worker's pid).
"""
import base64
import hashlib
import hmac
import json
import re
import time

import pytest
import requests

from auth_helpers import PASSWORD, bearer, login, new_user
from conftest import Stack, psql

CACHED = {"SESSION_CACHE_SECONDS": "60"}
# How long a test waits for notifications to be delivered, all polls of one test together: a third of the entries'
# lifetime, so only a notification can explain a refusal.
DELIVERY_DEADLINE = 20
WORKERS = 3
ME = "/api/v1/auth/me"
SEARCH = "/api/v1/users/search"
ADMIN_LIST = "/api/v1/admin/users"


@pytest.fixture(scope="module")
def pool():
    # The premium checks are made on directory routes: their per-account limit must not end a test's requests.
    s = Stack("session-cache", env=dict(CACHED, DIRECTORY_MAX_PER_MINUTE="100000"), workers=WORKERS)
    yield s
    s.stop()


def answers_on_every_worker(stack, path, tokens, status, allowed=(), deadline=60, end=None):
    """GETs `path` until every worker has answered it with `status`. Every answer is `status` — or, while not every
    worker has seen a change yet (a notification on its way), one of `allowed`. `end`: a monotonic instant to give up
    at, instead of `deadline` seconds from now."""
    workers = {str(pid) for pid in stack.worker_pids()}
    mark = len(stack.pool_log())
    answered = set()
    end = end or time.monotonic() + deadline
    while time.monotonic() < end:
        response = requests.get(stack.url(path), headers=bearer(tokens), timeout=10)
        assert response.status_code in (status, *allowed), (path, response.status_code, response.text)
        answered = set(re.findall(rf"route={re.escape(path)} status={status} .* pid=(\d+)", stack.pool_log()[mark:]))
        if answered >= workers:
            return
    raise AssertionError(f"{path}: not every worker answered {status}: {answered} of {workers}")


def next_request_refused(stack, path, tokens, status):
    """The very next request is refused, then every worker refuses too."""
    response = requests.get(stack.url(path), headers=bearer(tokens), timeout=10)
    assert response.status_code == status, response.text
    answers_on_every_worker(stack, path, tokens, status)


def claims(tokens):
    payload = tokens["access_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def psql_on(stack, sql):
    return psql(sql, url=stack.database_url)


def make_admin(http, stack):
    """A user made an administrator in the database before its first login (nothing of it is cached)."""
    user = new_user(http, stack)[0]
    psql_on(stack, f"UPDATE users SET is_admin = true WHERE id = '{user['id']}'")
    return login(http, stack, user["email"])


# Each revocation path through the API: (setup, path checked, status after) with setup(http, stack, user, tokens)
# returning the change to make (a function answering the response).
def logout(http, s, user, tokens):
    return lambda: http.post(s.url("/api/v1/auth/logout"), headers=bearer(tokens))


def logout_all(http, s, user, tokens):
    other = login(http, s, user["email"])
    return lambda: http.post(s.url("/api/v1/auth/logout-all"), headers=bearer(other))


def revoke_one_session(http, s, user, tokens):
    other = login(http, s, user["email"])
    return lambda: http.delete(s.url(f"/api/v1/auth/sessions/{claims(tokens)['sid']}"), headers=bearer(other))


def change_password(http, s, user, tokens):
    other = login(http, s, user["email"])
    return lambda: http.post(s.url("/api/v1/auth/change-password"), headers=bearer(other), json={
        "current_password": PASSWORD, "new_password": "BrandNewPass456", "confirm_password": "BrandNewPass456"})


def password_reset(http, s, user, tokens):
    def change():
        assert http.post(s.url("/api/v1/auth/password-reset-request"), json={"email": user["email"]}).status_code == 202
        token = psql_on(s, f"SELECT variables->>'token' FROM mail_outbox WHERE recipient = '{user['email']}' "
                           "AND kind = 'password_reset' ORDER BY created_at DESC LIMIT 1")
        return http.post(s.url("/api/v1/auth/password-reset-confirm"), json={
            "token": token, "new_password": "ResetPass789", "confirm_password": "ResetPass789"})
    return change


def refresh_token_reuse(http, s, user, tokens):
    assert http.post(s.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}).status_code == 200
    # Past the reuse grace: the replay is taken for a stolen token, and the session is revoked as it is refused.
    psql_on(s, f"UPDATE refresh_tokens SET used_at = used_at - interval '1 hour' WHERE user_id = '{user['id']}'")
    return lambda: http.post(s.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})


def delete_account(http, s, user, tokens):
    return lambda: http.delete(s.url("/api/v1/users/me"), headers=bearer(tokens), json={"password": PASSWORD})


def admin_action(method, action):
    def setup(http, s, user, tokens):
        admin = make_admin(http, s)
        suffix = f"/{action}" if action else ""
        return lambda: http.request(method, s.url(f"/api/v1/admin/users/{user['id']}{suffix}"), headers=bearer(admin))
    return setup


def admin_demote(http, s, user, tokens):
    admin = make_admin(http, s)
    assert http.post(s.url(f"/api/v1/admin/users/{user['id']}/promote"), headers=bearer(admin)).status_code == 200
    return lambda: http.post(s.url(f"/api/v1/admin/users/{user['id']}/demote"), headers=bearer(admin))


def admin_end_premium(http, s, user, tokens):
    admin = make_admin(http, s)
    granted = http.put(s.url(f"/api/v1/admin/users/{user['id']}/premium"), headers=bearer(admin),
                       json={"plan": "yearly", "duration_days": 30})
    assert granted.status_code == 200, granted.text
    return lambda: http.delete(s.url(f"/api/v1/admin/users/{user['id']}/premium"), headers=bearer(admin))


def downgrade(http, s, user, tokens):
    assert http.post(s.url("/api/v1/users/me/upgrade"), headers=bearer(tokens), json={"plan": "monthly"}).status_code == 200
    return lambda: http.post(s.url("/api/v1/users/me/downgrade"), headers=bearer(tokens))


REVOCATIONS = {
    "logout": (logout, ME, 401, 200),
    "logout-all": (logout_all, ME, 401, 200),
    "revoke one session": (revoke_one_session, ME, 401, 200),
    "change-password": (change_password, ME, 401, 200),
    "password reset": (password_reset, ME, 401, 200),
    "refresh-token reuse": (refresh_token_reuse, ME, 401, 401),
    "account deletion": (delete_account, ME, 401, 200),
    "admin deactivates": (admin_action("POST", "deactivate"), ME, 401, 200),
    "admin revokes sessions": (admin_action("POST", "revoke-sessions"), ME, 401, 200),
    "admin deletes": (admin_action("DELETE", None), ME, 401, 200),
    "admin demotes": (admin_demote, ADMIN_LIST, 403, 200),
    "admin ends premium": (admin_end_premium, SEARCH, 403, 200),
    "downgrade": (downgrade, SEARCH, 403, 200),
}


@pytest.mark.parametrize("name", REVOCATIONS)
def test_a_revocation_through_the_api_holds_on_the_next_request_whichever_worker_answers(pool, http, name):
    setup, path, refused, answered = REVOCATIONS[name]
    user, tokens = new_user(http, pool)
    change = setup(http, pool, user, tokens)
    answers_on_every_worker(pool, path, tokens, 200)  # every worker has the session cached
    response = change()
    assert response.status_code == answered, response.text
    next_request_refused(pool, path, tokens, refused)


def test_a_change_by_direct_sql_holds_once_its_notification_is_delivered(pool, http):
    deactivated = new_user(http, pool)
    revoked = new_user(http, pool)
    demoted = make_admin(http, pool)
    for tokens, path in [(deactivated[1], ME), (revoked[1], ME), (demoted, ADMIN_LIST)]:
        answers_on_every_worker(pool, path, tokens, 200)
    psql_on(pool, f"UPDATE users SET is_active = false WHERE id = '{deactivated[0]['id']}'")
    psql_on(pool, f"UPDATE user_sessions SET revoked_at = now() WHERE user_id = '{revoked[0]['id']}'")
    psql_on(pool, f"UPDATE users SET is_admin = false WHERE id = '{claims(demoted)['sub']}'")
    # Polled: each worker refuses from the moment its notification arrives.
    end = time.monotonic() + DELIVERY_DEADLINE
    answers_on_every_worker(pool, ME, deactivated[1], 401, allowed=(200,), end=end)
    answers_on_every_worker(pool, ME, revoked[1], 401, allowed=(200,), end=end)
    answers_on_every_worker(pool, ADMIN_LIST, demoted, 403, allowed=(200,), end=end)


def test_a_revocation_on_one_pool_is_refused_on_another_pool_of_the_same_database(pool, http, make_stack):
    other_host = make_stack(name="session-cache-b", database=pool.database_url, workers=2,
                            env=dict(CACHED, JWT_SECRET_KEY=pool.settings["JWT_SECRET_KEY"]))
    user, tokens = new_user(http, pool)
    answers_on_every_worker(other_host, ME, tokens, 200)
    assert http.post(pool.url("/api/v1/auth/logout"), headers=bearer(tokens)).status_code == 200
    next_request_refused(pool, ME, tokens, 401)
    answers_on_every_worker(other_host, ME, tokens, 401, allowed=(200,), deadline=DELIVERY_DEADLINE)


def test_an_entry_never_answers_for_another_session_or_user(pool, http):
    first, first_tokens = new_user(http, pool)
    second, second_tokens = new_user(http, pool)
    for tokens in (first_tokens, second_tokens):
        answers_on_every_worker(pool, ME, tokens, 200)
    for _ in range(20):
        for user, tokens in ((first, first_tokens), (second, second_tokens)):
            assert http.get(pool.url(ME), headers=bearer(tokens)).json()["id"] == user["id"]
    # Validly signed tokens that pair one user's id with the other's session: refused by every worker, though both
    # sessions are cached everywhere.
    header = first_tokens["access_token"].split(".")[0]
    for sub, sid in ((first["id"], claims(second_tokens)["sid"]), (second["id"], claims(first_tokens)["sid"])):
        payload = dict(claims(first_tokens), sub=sub, sid=sid)
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
        signature = hmac.new(pool.settings["JWT_SECRET_KEY"].encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        forged = {"access_token": f"{header}.{body}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()}
        answers_on_every_worker(pool, ME, forged, 401)


def cache_hits(stack):
    metrics = requests.get(stack.url("/metrics"), timeout=10).text
    return int(re.search(r'^user_service_session_checks_total\{answered_by="cache"\} (\d+)$', metrics, re.M).group(1))


def test_a_worker_whose_connection_ended_answers_nothing_from_its_cache_until_it_listens_again(make_stack, http):
    s = make_stack(name="session-cache-lost", env=CACHED, workers=2)
    database = s.database_url.rsplit("/", 1)[1]
    user, tokens = new_user(http, s)
    keeper, keeper_tokens = new_user(http, s)
    for t in (tokens, keeper_tokens):
        answers_on_every_worker(s, ME, t, 200)
    # The workers' connections end (each gone when this returns), and the session is revoked while nobody listens.
    psql(f"SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '{database}' "
         "AND application_name = 'user-service'")
    psql_on(s, f"UPDATE user_sessions SET revoked_at = now() WHERE user_id = '{user['id']}'")
    # While no connection can be made, nothing is answered from the cache: 503 from every worker, never 200.
    psql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS false")
    try:
        hits = cache_hits(s)
        answers_on_every_worker(s, ME, tokens, 503)
        answers_on_every_worker(s, ME, keeper_tokens, 503)
        assert cache_hits(s) == hits
    finally:
        psql(f"ALTER DATABASE {database} ALLOW_CONNECTIONS true")
    answers_on_every_worker(s, ME, tokens, 401)
    answers_on_every_worker(s, ME, keeper_tokens, 200)
    # Listening again: reads are answered from the cache once more.
    hits = cache_hits(s)
    answers_on_every_worker(s, ME, keeper_tokens, 200)
    assert cache_hits(s) > hits


def test_an_idle_worker_keeps_reading_its_notifications(make_stack, http):
    """PostgreSQL's notification queue, shared by the whole cluster, shrinks only as far as its slowest listener has
    read. A worker reads its connection between requests too (about once a second), so notifications that pile up
    while no request comes never leave its server process blocked writing to it, the queue held, and in the end
    every notifying COMMIT refused."""
    s = make_stack(name="session-cache-idle", env=CACHED, workers=2)
    user, tokens = new_user(http, s)
    answers_on_every_worker(s, ME, tokens, 200)  # every worker's connection is open and listens
    # About 2 MB, far more than a socket holds: unread, each worker's server process would block in ClientWrite.
    psql_on(s, "SELECT pg_notify('session_check', g || repeat('x', 1000)) FROM generate_series(1, 2000) g")
    piled = float(psql_on(s, "SELECT pg_notification_queue_usage()"))
    assert piled > 0
    end = time.monotonic() + 60
    usage = piled
    while time.monotonic() < end:
        # No request meanwhile. A notification on a channel nobody listens to now and then: a notifying commit is
        # what moves the queue's tail up to the slowest listener.
        psql_on(s, "SELECT pg_notify('idle_test', repeat('z', 7000))")
        usage = float(psql_on(s, "SELECT pg_notification_queue_usage()"))
        if usage < piled / 20:
            return
    raise AssertionError(f"the notification queue stayed at {usage} (from {piled}): a worker does not read it")
