"""The pool behind nginx: routing under mount paths, error shapes, supervision, reload, drain, readiness, metrics."""
import concurrent.futures
import os
import re
import signal
import socket
import subprocess
import threading
import time

import requests

from conftest import BIN, MIGRATIONS, TableLock, create_database, wait_for


def test_system_endpoints_at_the_site_root(stack, http):
    root = http.get(stack.url("/"))
    assert root.status_code == 200
    assert root.json() == {"service": "user-service", "version": "1.0.0", "status": "running"}
    assert re.fullmatch(r"[0-9a-f]{32}", root.headers["X-Request-ID"])
    health = http.get(stack.url("/health"))
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    status = http.get(stack.url("/db/status")).json()
    assert status["connected"] is True and status["pending_migrations"] == []
    assert status["schema_version"] == max(int(f[:4]) for f in os.listdir(MIGRATIONS))
    assert status["server_version"].startswith("15.")


def test_each_request_is_logged_once_in_one_line(stack, http):
    """The worker writes its request lines as bytes in batches: one line per request, whole, with the route
    template, status, duration in milliseconds with three decimals, nginx's request id and the client address."""
    answers = [http.get(stack.url(path)) for path in ("/", "/health", "/api/v1/does-not-exist")]
    ids = [a.headers["X-Request-ID"] for a in answers]
    wait_for(lambda: all(f"request_id={i}" in stack.pool_log() for i in ids), message="the request lines")
    lines = {i: [line for line in stack.pool_log().splitlines() if f"request_id={i}" in line] for i in ids}
    pattern = r"method=GET route=(\S+) status=(\d{3}) duration_ms=\d+\.\d{3} request_id=([0-9a-f]{32}) remote_addr=127\.0\.0\.1 pid=\d+"
    seen = []
    for i, answer in zip(ids, answers):
        assert len(lines[i]) == 1, lines[i]
        match = re.fullmatch(pattern, lines[i][0])
        assert match, lines[i][0]
        assert match[2] == str(answer.status_code) and match[3] == i
        seen.append(match[1])
    assert seen == ["/", "/health", "unmatched"]


def test_unknown_path_and_wrong_method_have_fastapi_shapes(stack, http):
    missing = http.get(stack.url("/api/v1/does-not-exist"))
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    wrong = http.delete(stack.url("/health"))
    assert wrong.status_code == 405 and wrong.json() == {"detail": "Method Not Allowed"}
    assert wrong.headers["Allow"] == "GET"


FOREIGN_SITE = """
server {
    listen 127.0.0.1:@PORT@;
    server_name foreign.test;
    include @SNIPPETS@/user-service-errors.conf;
    location = /index.html { default_type text/plain; return 200 "the site's own page"; }
    location /static/ { default_type text/plain; return 200 "static"; }
    location ~ ^/users-svc(?<user_service_path>/.*)$ { include @SNIPPETS@/user-service.conf; }
    location ~ ^/team/accounts(?<user_service_path>/.*)$ { include @SNIPPETS@/user-service.conf; }
}
"""


def test_mounted_under_two_prefixes_in_a_foreign_server(make_stack, http):
    s = make_stack(name="mount", site=FOREIGN_SITE, workers=1)
    assert http.get(s.url("/index.html")).text == "the site's own page"
    assert http.get(s.url("/static/x")).text == "static"
    for prefix in ("/users-svc", "/team/accounts"):
        assert http.get(s.url(prefix + "/")).json()["service"] == "user-service"
        assert http.get(s.url(prefix + "/health")).json()["status"] == "healthy"
        assert http.get(s.url(prefix + "/nope")).json() == {"detail": "Not Found"}
        # FastAPI's trailing-slash redirect points under the same prefix.
        redirect = http.get(s.url(prefix + "/health/"), allow_redirects=False)
        assert redirect.status_code == 307 and redirect.headers["Location"] == prefix + "/health"
    # Outside the mounts the service is not reached at all.
    assert http.get(s.url("/health")).status_code == 404
    assert "user-service" not in http.get(s.url("/health")).text
    wait_for(lambda: "route=/health status=200" in s.pool_log(), message="the request line")


def test_killed_worker_is_replaced(make_stack, http):
    s = make_stack(name="kill", workers=2)
    before = s.worker_pids()
    assert len(before) == 2
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: len(s.worker_pids()) == 2 and s.worker_pids() != before, message="replacement worker")
    assert "ended with signal 9" in s.pool_log()
    for _ in range(20):
        assert http.get(s.url("/health")).status_code == 200
    # The replacement counts its start once it is ready (after its own set-up), which can follow its pid's appearance.
    metrics = wait_for(lambda: (lambda text: text if re.search(r"^user_service_worker_starts_total 3$", text, re.M) else None)(
        http.get(s.url("/metrics")).text), message="the replacement's start counted")
    assert re.search(r"^user_service_worker_restarts_total 1$", metrics, re.M)


def hammer(url, stop, results):
    with requests.Session() as session:
        while not stop.is_set():
            try:
                results.append(session.get(url, timeout=10).status_code)
            except requests.RequestException as error:
                results.append(repr(error))


def test_reload_under_load_drops_nothing(make_stack):
    s = make_stack(name="reload", workers=2)
    before = s.worker_pids()
    stop, results = threading.Event(), []
    threads = [threading.Thread(target=hammer, args=(s.url("/health"), stop, results)) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(results) >= 25, message="requests before the reload")
        # The new configuration is read from the env file on reload.
        s.settings["ACCESS_TOKEN_EXPIRE_MINUTES"] = "15"
        s.write_env(s.settings)
        s.signal_pool(signal.SIGHUP)
        wait_for(lambda: "reload complete" in s.pool_log(), message="reload complete")
        answered = len(results)
        wait_for(lambda: len(results) >= answered + 25, message="requests after the reload")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(results) > 50
    assert set(results) == {200}, [r for r in results if r != 200][:5]
    after = s.worker_pids()
    assert len(after) == 2 and not set(after) & set(before)


def test_reload_with_a_broken_env_file_keeps_serving(make_stack, http):
    s = make_stack(name="badreload", workers=2)
    before = s.worker_pids()
    with open(s.env_file, "a") as f:
        f.write("JWT_SECRET_KEY=short\n")
    s.signal_pool(signal.SIGHUP)
    wait_for(lambda: "reload refused" in s.pool_log(), message="reload refused")
    assert "configuration error: JWT_SECRET_KEY must be at least 32 bytes" in s.pool_log()
    assert "short" not in s.pool_log().split("reload refused")[1]
    assert s.worker_pids() == before
    assert http.get(s.url("/health")).status_code == 200


def test_reload_refuses_an_env_file_that_gained_the_migration_url(make_stack, http):
    s = make_stack(name="migurlreload", workers=1)
    before = s.worker_pids()
    with open(s.env_file, "a") as f:
        f.write("MIGRATION_DATABASE_URL=postgresql://owner:s3cret@localhost/x\n")
    s.signal_pool(signal.SIGHUP)
    wait_for(lambda: "reload refused" in s.pool_log(), message="reload refused")
    assert f"{s.env_file} sets MIGRATION_DATABASE_URL" in s.pool_log() and "s3cret" not in s.pool_log()
    assert s.worker_pids() == before
    assert http.get(s.url("/health")).status_code == 200


def test_sigterm_lets_an_in_flight_request_finish(make_stack):
    s = make_stack(name="drain", workers=1, env={"DB_STATEMENT_TIMEOUT_MS": "30000"})
    # Hold the request in flight: /db/status reads schema_migrations, which this session locks.
    lock = TableLock(s.database_url, "schema_migrations")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.get, s.url("/db/status"), timeout=30)
        lock.wait_for_waiter()
        s.signal_pool(signal.SIGTERM)
        wait_for(lambda: "finishing in-flight requests" in s.pool_log(), message="draining")
        assert s.pool.poll() is None  # still draining
        lock.release()
        response = pending.result()
    assert response.status_code == 200 and response.json()["connected"] is True
    assert s.pool.wait(timeout=10) == 0
    assert "stopped" in s.pool_log()


def test_drain_timeout_kills_a_worker_that_overruns(make_stack):
    s = make_stack(name="overrun", workers=1, env={"DB_STATEMENT_TIMEOUT_MS": "60000", "DRAIN_TIMEOUT_SECONDS": "1"},
                   start_nginx=True)
    lock = TableLock(s.database_url, "schema_migrations")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.get, s.url("/db/status"), timeout=30)
        lock.wait_for_waiter()
        s.signal_pool(signal.SIGTERM)
        assert s.pool.wait(timeout=30) == 0  # long before the held statement's 60 s timeout
        assert "did not finish within the drain timeout" in s.pool_log()
        assert pending.result().status_code == 502
    lock.release()


def test_systemd_notifications(make_stack, tmp_path):
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(10)
    try:
        s = make_stack(name="notify", workers=2, notify_socket=path, start_nginx=False)
        assert listener.recv(4096) == b"READY=1"
        s.signal_pool(signal.SIGHUP)
        assert listener.recv(4096) == b"RELOADING=1"
        assert listener.recv(4096) == b"READY=1"
        s.signal_pool(signal.SIGTERM)
        assert listener.recv(4096) == b"STOPPING=1"
        assert s.pool.wait(timeout=10) == 0
    finally:
        listener.close()


def test_metrics_add_up_over_all_workers(make_stack):
    s = make_stack(name="metrics", workers=2)
    count = 200
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: requests.get(s.url("/"), timeout=10).status_code, range(count)))
    assert statuses == [200] * count
    wait_for(lambda: len(re.findall(r"route=/ status=200 ", s.pool_log())) == count, message="every request line")
    pids = set(re.findall(r"route=/ status=200 .* pid=(\d+)", s.pool_log()))
    assert len(pids) == 2, "both workers should have answered"
    metrics = requests.get(s.url("/metrics")).text
    assert f'user_service_requests_total{{route="/",method="GET",status="200"}} {count}' in metrics
    assert f'user_service_request_duration_seconds_count{{route="/",method="GET"}} {count}' in metrics
    # Totals survive a worker being replaced.
    before = s.worker_pids()
    os.kill(before[0], signal.SIGKILL)
    wait_for(lambda: "restarting in" in s.pool_log(), message="restart")
    wait_for(lambda: len(s.worker_pids()) == 2 and s.worker_pids() != before, message="the replacement worker")
    metrics = requests.get(s.url("/metrics")).text
    assert f'user_service_requests_total{{route="/",method="GET",status="200"}} {count}' in metrics
    assert re.search(r"^user_service_requests_in_flight 1$", metrics, re.M)


def test_socket_on_fd_zero(tmp_path):
    """The FastCGI convention: the listening socket arrives as fd 0."""
    database = create_database()
    path = str(tmp_path / "fd0.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    env_file = tmp_path / "env"
    env_file.write_text(f"DATABASE_URL={database}\nJWT_SECRET_KEY={'x' * 40}\nWORKERS=1\n")
    pool = subprocess.Popen([BIN, "serve", "--env-file", str(env_file)], stdin=listener.fileno(),
                            stderr=subprocess.PIPE, text=True)
    listener.close()
    try:
        wait_for(lambda: subprocess.run(["cgi-fcgi", "-bind", "-connect", path],
                                        env={"SCRIPT_NAME": "/", "REQUEST_METHOD": "GET"}, capture_output=True,
                                        text=True).stdout.find('"service":"user-service"') >= 0,
                 message="answer over fd 0")
    finally:
        pool.send_signal(signal.SIGTERM)
        assert pool.wait(timeout=10) == 0


def test_bad_configuration_refuses_to_start_with_one_clear_line(tmp_path):
    cases = {
        "JWT_SECRET_KEY=short-secret-value\nDATABASE_URL=postgresql://u:topsecretpw@h/d\n":
            "configuration error: JWT_SECRET_KEY must be at least 32 bytes",
        f"JWT_SECRET_KEY={'k' * 32}\n": "configuration error: DATABASE_URL is required",
        f"JWT_SECRET_KEY={'k' * 32}\nDATABASE_URL=postgresql://u:topsecretpw@h/d\nACCESS_TOKEN_EXPIRE_MINUTES=soon\n":
            "configuration error: ACCESS_TOKEN_EXPIRE_MINUTES must be an integer",
    }
    for text, expected in cases.items():
        env_file = tmp_path / "env"
        env_file.write_text(text)
        result = subprocess.run([BIN, "serve", "--listen", f"unix:{tmp_path}/x.sock", "--env-file", str(env_file)],
                                capture_output=True, text=True, timeout=10,
                                env={"PATH": os.environ["PATH"]})
        assert result.returncode == 1
        assert expected in result.stderr
        assert "topsecretpw" not in result.stderr and "short-secret-value" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_pool_size_variables_are_accepted_with_a_warning(make_stack, http):
    s = make_stack(name="poolsize", workers=1, env={"DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "20"}, start_nginx=False)
    assert "warning: DB_POOL_SIZE is ignored" in s.pool_log()
    assert "warning: DB_MAX_OVERFLOW is ignored" in s.pool_log()


def test_body_limits(stack, http):
    # nginx refuses a body over the limit with the service's JSON shape.
    big = http.post(stack.url("/health"), data=b"x" * 200_000, headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.json() == {"detail": "Request body too large"}


def test_password_endpoints_have_workers_of_their_own(make_stack, http):
    """nginx sends login, register and change-password to the password workers, so bcrypt never delays reads."""
    from auth_helpers import bearer, login, register
    from conftest import TableLock

    s = make_stack(name="password-pool", workers=1, password_workers=1)
    assert "starting 1 workers and 1 password workers" in s.pool_log()
    user = register(http, s)
    tokens = login(http, s, user["email"])
    assert http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200
    wait_for(lambda: "route=/api/v1/auth/me " in s.pool_log(), message="the /me line")
    pids = {route: set(re.findall(rf"route={route} status=\d+ .* pid=(\d+)", s.pool_log()))
            for route in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/me")}
    assert pids["/api/v1/auth/register"] == pids["/api/v1/auth/login"]
    assert not pids["/api/v1/auth/login"] & pids["/api/v1/auth/me"]
    # The only password worker is held inside a login; reads are still answered at once.
    lock = TableLock(s.database_url, "login_throttle")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(requests.post, s.url("/api/v1/auth/login"), json={"email": user["email"], "password": "x"},
                           timeout=30)
        lock.wait_for_waiter()
        assert http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens), timeout=30).status_code == 200
        assert not held.done()  # answered while the login still holds the only password worker
        lock.release()
        assert held.result().status_code == 401
