"""The directory's per-account limit (DIRECTORY_MAX_PER_MINUTE) under concurrency, through nginx and several workers:
requests that arrive together are counted one after another (one upsert each, on the account's row), so no more
than the limit get through however many workers serve them at once. Made deterministic by holding the account's
counter row locked from the test's own connection until every request is waiting on it. The limit's sequence,
window and Retry-After are tested at the `Application` level (DirectoryTests.eachAccountHasAPerMinuteLimit)."""
import concurrent.futures

import requests

from auth_helpers import bearer, new_user
from conftest import HeldTransaction, psql, wait_for

WORKERS = 4


def test_requests_arriving_together_never_pass_the_limit(make_stack, http):
    # A statement timeout above the time the requests wait on the held row, on a loaded machine.
    s = make_stack(name="dirlimit", workers=WORKERS, env={"DIRECTORY_MAX_PER_MINUTE": "3", "DB_STATEMENT_TIMEOUT_MS": "60000"})
    user, tokens = new_user(http, s)
    psql(f"UPDATE users SET premium_plan = 'monthly', premium_expires_at = now() + interval '30 days' WHERE id = '{user['id']}'",
         url=s.database_url)

    def search():
        return requests.get(s.url("/api/v1/users/search"), headers=bearer(tokens), timeout=60).status_code

    assert search() == 200  # the window's first request: 2 more allowed
    held = HeldTransaction(s.database_url, f"SELECT 1 FROM directory_requests WHERE user_id = '{user['id']}' FOR UPDATE")
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        attempts = [pool.submit(search) for _ in range(WORKERS)]
        # Every worker holds one request, each waiting for the counter: none has been counted yet.
        wait_for(lambda: int(psql("SELECT count(*) FROM pg_locks WHERE NOT granted", url=s.database_url)) >= WORKERS,
                 timeout=30, message=f"{WORKERS} requests waiting on the counter")
        held.commit()
        statuses = sorted(attempt.result(timeout=60) for attempt in attempts)
    assert statuses == [200, 200, 429, 429]
    assert psql(f"SELECT requests FROM directory_requests WHERE user_id = '{user['id']}'", url=s.database_url) == "4"
