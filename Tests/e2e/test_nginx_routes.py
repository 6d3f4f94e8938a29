"""The real nginx does what the route table declares, for every route (`user-service routes --json`), so a new route
is covered without a new test: the workers that serve it, its rate-limit group, whether only PRIVATE_ALLOW may call
it, and whether its answers are `Cache-Control: no-store`."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN, Stack, wait_for
from test_nginx import request_from

ROUTES = json.loads(subprocess.run([BIN, "routes", "--json"], env={}, capture_output=True, text=True, check=True).stdout)
ALLOWED, OUTSIDE = "127.1", "127.2"  # PRIVATE_ALLOW is 127.1.0.0/16; 127.0.0.1 and 127.2.x.y are outside it
NGINX_ANSWERS = {429: b'{"detail":"Too many requests"}', 403: b'{"detail":"Forbidden"}'}  # nginx's own, never the pool's


@pytest.fixture(scope="module")
def edge():
    """A pool with a main and a password socket (one worker each) behind nginx rendered with a private allow-list
    that excludes 127.0.0.1 and a strict group of one request a minute per client, without burst."""
    s = Stack("edge", workers=1, password_workers=1, nginx_env={
        "PRIVATE_ALLOW": f"{ALLOWED}.0.0/16", "RATE_LIMIT_AUTH": "1r/m", "RATE_LIMIT_AUTH_BURST": "0"})
    yield s, workers_by_socket(s)
    s.stop()


def workers_by_socket(s):
    """{worker pid: "main" | "password"}, from the listening socket each worker holds as fd 0."""
    paths = {}
    with open("/proc/net/unix") as f:
        for fields in (line.split() for line in list(f)[1:]):
            if len(fields) >= 8:
                paths[fields[6]] = fields[7]
    pools = {s.socket_path: "main", s.password_socket_path: "password"}
    workers = {pid: pools[paths[re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/0")).group(1)]]
               for pid in s.worker_pids()}
    assert sorted(workers.values()) == ["main", "password"], workers
    return workers


def call(s, route, source):
    """The route's method on a path that fits its template, with an empty JSON body where one may go."""
    path = re.sub(r"\{[^/}]+\}", "0b6c3c2e-6d1f-4f5e-9a41-2f8e0c1d2b3a", route["path"])
    body = b"{}" if route["method"] in ("POST", "PUT", "PATCH") else None
    return request_from(source, s.http_port, route["method"], path, body=body,
                        headers={"Content-Type": "application/json"} if body else {})


def answered_by_nginx(status, body):
    return NGINX_ANSWERS.get(status) == body


def served_by(s, workers, answer):
    """The pool ("main" or "password") whose worker logged the request (found by nginx's request id)."""
    status, headers, body = answer
    assert not answered_by_nginx(status, body), f"nginx answered {status} itself"
    request_id = headers["X-Request-ID"]
    line = wait_for(lambda: re.search(rf"request_id={request_id} .*pid=(\d+)", s.pool_log()),
                    message=f"the pool's line for request {request_id}")
    return workers[int(line.group(1))]


def no_store(headers):
    return "no-store" in (headers.get("Cache-Control") or "")


@pytest.mark.parametrize("index", range(len(ROUTES)), ids=[f"{r['method']} {r['path']}" for r in ROUTES])
def test_nginx_does_what_the_route_table_declares(edge, index):
    s, workers = edge
    route = ROUTES[index]
    inside = f"{ALLOWED}.{index // 250}.{index % 250 + 1}"  # an address of its own: a fresh rate-limit budget
    outside = f"{OUTSIDE}.{index // 250}.{index % 250 + 1}"

    # From an allowed address: the declared workers serve it, with Cache-Control as declared.
    answer = status, headers, body = call(s, route, inside)
    assert served_by(s, workers, answer) == route["workers"]
    assert no_store(headers) == route["no_store"]

    # At once again: a strict route has spent its one request a minute (nginx answers), a general one has not.
    answer = status, headers, body = call(s, route, inside)
    if route["rate_group"] == "strict":
        assert status == 429 and answered_by_nginx(status, body) and headers["Retry-After"] == "60"
        served_by(s, workers, request_from(inside, s.http_port, "GET", "/health"))  # the general group: another budget
    else:
        assert served_by(s, workers, answer) == route["workers"]
    assert no_store(headers) == route["no_store"]

    # From outside PRIVATE_ALLOW: nginx refuses a private route; a public one is served.
    answer = status, headers, body = call(s, route, outside)
    if route["private"]:
        assert status == 403 and answered_by_nginx(status, body)
    else:
        assert served_by(s, workers, answer) == route["workers"]
    assert no_store(headers) == route["no_store"]

    # A combining mark after the first "/" (one character to Swift, two byte sequences to nginx) must not make the
    # pool serve a route that nginx classified as another path: it is no route at all.
    status, headers, body = call(s, dict(route, path="/%CC%81" + route["path"]), outside)
    assert status == 404 and not answered_by_nginx(status, body), (status, body)
