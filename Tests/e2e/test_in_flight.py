"""Issue 11 item 11: a worker killed in the middle of a request leaves nothing counted in flight."""
import os
import re
import signal
import threading

import requests

from auth_helpers import PASSWORD
from conftest import TableLock, wait_for


def in_flight(stack):
    """The gauge as a scrape sees it (the scrape itself is one of the requests in flight)."""
    text = requests.get(stack.url("/metrics"), timeout=10).text
    return int(re.search(r"^user_service_requests_in_flight (-?\d+)$", text, re.M).group(1))


def test_a_worker_killed_mid_request_leaves_nothing_in_flight(make_stack):
    s = make_stack(name="inflight", workers=2)
    idle = in_flight(s)
    lock = TableLock(s.database_url, "users")
    answers = []
    try:
        name = os.urandom(5).hex()
        body = {"email": f"{name}@example.com", "username": f"user_{name}", "full_name": "Test User",
                "password": PASSWORD, "confirm_password": PASSWORD}
        request = threading.Thread(target=lambda: answers.append(
            requests.post(s.url("/api/v1/auth/register"), json=body, timeout=30).status_code))
        request.start()
        lock.wait_for_waiter()
        assert in_flight(s) == idle + 1
        # Every worker is killed, the one in the middle of the request among them.
        victims = s.worker_pids()
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
        request.join(timeout=30)
        assert answers == [502]
        wait_for(lambda: len(s.worker_pids()) == 2 and not set(victims) & set(s.worker_pids()),
                 message="replacement workers")
        wait_for(lambda: in_flight(s) == idle, message="the in-flight gauge back to its idle value")
    finally:
        lock.release()
