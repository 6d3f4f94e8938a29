"""The cluster of `make cluster` (scripts/cluster: two pool hosts, a PostgreSQL primary and synchronous standby under
pg_auto_failover, one nginx, in network namespaces) under faults, with a stream of register, login and /me through
the front end: a pool host's master killed (kill -9), a pool host stopped, the primary's node taken away.

Asserted: what must never happen — an idempotent request (GET /me) failing while a pool host dies, an acknowledged
registration (201) lost, the service not back within two minutes of losing its primary — and that the cluster
leaves no namespace, link or file behind. Reported (printed, never asserted): failed requests per fault, the longest
interval without a successful /me, and the failover time against the 30 s target.

Skipped, with the reason, where the kernel or the user cannot make network namespaces (not root, an unprivileged
container)."""
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

from conftest import BIN, ROOT, RUN_DIR, free_port

CLUSTER = os.path.join(ROOT, "scripts", "cluster")
PASSWORD = "ClusterPass123x"
FAILOVER_TARGET_SECONDS = 30
BACK_WITHIN_SECONDS = 120


def namespaces_refused():
    """Why network namespaces cannot be made here, or None (a namespace is made and removed to find out)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    probe = f"usprobe{os.getpid()}"
    try:
        made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return None  # iproute2 missing: scripts/install-deps --test installs it, so the cluster says what failed
    if made.returncode != 0:
        return f"the kernel refuses network namespaces here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=True, timeout=30)
    return None


REFUSED = namespaces_refused()
pytestmark = pytest.mark.skipif(REFUSED is not None, reason=str(REFUSED))


def free_subnet():
    """Three octets of a 10.x.y.0/24 that no route of this machine touches."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True).stdout
    while True:
        candidate = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        if candidate + "." not in routes:  # scripts/cluster refuses a subnet that overlaps a wider route
            return candidate


class Cluster:
    def __init__(self):
        self.name = "t" + uuid.uuid4().hex[:6]
        self.run_dir = os.path.join(RUN_DIR, f"cluster-{self.name}")
        self.port = free_port()
        self.env = dict(os.environ, CLUSTER_RUN_DIR=self.run_dir, CLUSTER_NAME=self.name, CLUSTER_SUBNET=free_subnet(),
                        CLUSTER_HTTP_PORT=str(self.port), CLUSTER_HTTPS_PORT=str(free_port()), USER_SERVICE_BIN=BIN,
                        BCRYPT_ROUNDS="4")
        self.log_path = os.path.join(RUN_DIR, f"cluster-{self.name}.log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([CLUSTER, "up"], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 300
        while not os.path.exists(os.path.join(self.run_dir, "ready")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the cluster did not come up:\n{self.output()}")
            time.sleep(0.2)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def command(self, *args):
        result = subprocess.run([CLUSTER, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"scripts/cluster {' '.join(args)}: {result.stderr}"

    def pool_ready_count(self, n):
        with open(os.path.join(self.run_dir, f"pool{n}", "pool.log"), errors="replace") as f:
            return f.read().count("pool ready")

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=120)
        self.log.close()

    def leftovers(self):
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        return ([line for line in namespaces.splitlines() if line.startswith(self.name + "-")] +
                [line for line in links.splitlines() if f" {self.name}-" in line] +
                ([self.run_dir] if os.path.exists(self.run_dir) else []))


class Load:
    """A bounded stream through the front end: threads that each register an account, log in, then read /me five
    times, over and over, until stopped. Every request is recorded as (kind, started, ended, outcome)."""

    def __init__(self, cluster, threads=4):
        self.cluster = cluster
        self.records = []
        self.registered = []  # (email) of every 201
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def call(self, session, kind, method, path, **kwargs):
        started = time.monotonic()
        try:
            outcome = session.request(method, self.cluster.url(path), timeout=30, **kwargs)
        except requests.RequestException as error:
            outcome = error
        with self.lock:
            self.records.append((kind, started, time.monotonic(), outcome if isinstance(outcome, Exception) else outcome.status_code))
        return None if isinstance(outcome, Exception) else outcome

    def run(self):
        session = requests.Session()
        token = None
        while not self.stopping.is_set():
            name = "c" + uuid.uuid4().hex[:12]
            email = f"{name}@example.com"
            answer = self.call(session, "register", "POST", "/api/v1/auth/register",
                               json={"email": email, "username": name, "password": PASSWORD, "confirm_password": PASSWORD})
            if answer is not None and answer.status_code == 201:
                with self.lock:
                    self.registered.append(email)
                answer = self.call(session, "login", "POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
                if answer is not None and answer.status_code == 200:
                    token = answer.json()["access_token"]
            if token is None:
                time.sleep(0.1)  # nothing to read with yet (the database is away): don't spin
                continue
            for _ in range(5):
                self.call(session, "me", "GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})

    def successes_since(self, kind, since, status):
        with self.lock:
            return sum(1 for k, started, _, outcome in self.records if k == kind and started >= since and outcome == status)

    def wait_for_successes(self, kind, since, status, count, deadline):
        while self.successes_since(kind, since, status) < count:
            assert time.monotonic() < deadline, f"fewer than {count} {kind} answered {status} in time"
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def report(self, name, start, end):
        """Failed requests by kind, the longest interval without a successful /me, in [start, end]."""
        with self.lock:
            records = [r for r in self.records if start <= r[1] and r[2] <= end]
        ok = {"register": 201, "login": 200, "me": 200}
        failed = {kind: sum(1 for k, _, _, outcome in records if k == kind and outcome != ok[kind]) for kind in ok}
        total = {kind: sum(1 for k, *_ in records if k == kind) for kind in ok}
        me_ok = sorted(ended for kind, _, ended, outcome in records if kind == "me" and outcome == 200)
        moments = [start] + me_ok + [end]
        gap = max(b - a for a, b in zip(moments, moments[1:]))
        outcomes = sorted({str(o) if not isinstance(o, Exception) else type(o).__name__
                           for k, _, _, o in records if o != ok[k]})
        return {"fault": name, "failed": failed, "total": total, "longest_without_me_s": gap, "failures": outcomes}


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        yield c
    finally:
        c.stop()
        assert c.leftovers() == [], f"the cluster left these behind: {c.leftovers()}"


def test_faults_lose_no_idempotent_request_and_no_acknowledged_registration(cluster, capsys):
    load = Load(cluster)
    reports = []
    try:
        begin = time.monotonic()
        load.wait_for_successes("me", begin, 200, 20, begin + 60)

        # 1. Pool host 1's master killed: its workers are killed with it (systemd's KillMode) and it comes back 2 s
        # later; nginx sends reads that hit it on to pool host 2.
        start = time.monotonic()
        before = cluster.pool_ready_count(1)
        cluster.command("pool", "1", "kill")
        deadline = start + 60
        while cluster.pool_ready_count(1) == before:
            assert time.monotonic() < deadline, "pool host 1 was not restarted"
            time.sleep(0.05)
        back = time.monotonic()
        load.wait_for_successes("me", back, 200, 40, back + 60)
        reports.append(load.report("pool host 1's master killed (kill -9), restarted 2 s later", start, time.monotonic()))

        # 2. Pool host 2 stopped (drained), the front end serving from host 1 alone, then started again.
        start = time.monotonic()
        cluster.command("pool", "2", "stop")
        stopped = time.monotonic()
        load.wait_for_successes("me", stopped, 200, 40, stopped + 60)
        cluster.command("pool", "2", "start")
        started = time.monotonic()
        load.wait_for_successes("me", started, 200, 40, started + 60)
        reports.append(load.report("pool host 2 stopped, then started", start, time.monotonic()))

        for report in reports:
            assert report["failed"]["me"] == 0, f"GET /me failed while a pool host died: {report}"

        # 3. The primary's node taken away: its link cut, then its keeper, postmaster and backends killed. The monitor
        # promotes the standby; every worker's next connection finds it through target_session_attrs=read-write.
        start = time.monotonic()
        cluster.command("node-down", "db1")
        lost = time.monotonic()  # the link is down and the node's processes dead: no write can reach it from here
        load.wait_for_successes("register", lost, 201, 1, lost + BACK_WITHIN_SECONDS)
        with load.lock:
            writes_back = min(ended for kind, started, ended, outcome in load.records
                              if kind == "register" and outcome == 201 and started >= lost)
        load.wait_for_successes("me", writes_back, 200, 40, start + BACK_WITHIN_SECONDS)
        failover = load.report("the primary's node taken away (link cut, keeper and postmaster killed)", start,
                               time.monotonic())
        failover["writes_back_after_s"] = writes_back - lost
        reports.append(failover)
    finally:
        load.stop()

    # Every acknowledged registration logs in, on the new primary.
    session = requests.Session()
    lost = [email for email in load.registered
            if session.post(cluster.url("/api/v1/auth/login"), json={"email": email, "password": PASSWORD},
                            timeout=30).status_code != 200]
    with capsys.disabled():
        print(f"\n== cluster under faults ({len(load.records)} requests, {len(load.registered)} registrations "
              f"acknowledged, {len(lost)} of them lost)")
        for report in reports:
            print(f"-- {report['fault']}")
            print("   failed: " + ", ".join(f"{k} {report['failed'][k]}/{report['total'][k]}" for k in report["failed"]) +
                  (f" ({', '.join(report['failures'])})" if report["failures"] else ""))
            print(f"   longest interval without a successful /me: {report['longest_without_me_s']:.1f} s")
            if "writes_back_after_s" in report:
                verdict = "within" if report["writes_back_after_s"] <= FAILOVER_TARGET_SECONDS else "OVER"
                print(f"   failover: writes back {report['writes_back_after_s']:.1f} s after the node was lost "
                      f"({verdict} the {FAILOVER_TARGET_SECONDS} s target; not asserted)")
    assert lost == [], f"acknowledged registrations lost: {lost}"
