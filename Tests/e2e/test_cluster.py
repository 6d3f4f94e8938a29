"""The cluster of `make cluster` (scripts/cluster: two pool hosts, a PostgreSQL primary and synchronous standby under
pg_auto_failover, one nginx, in network namespaces) under faults, with a stream of register, login and /me through
the front end: a pool host's master killed (kill -9), a pool host stopped, the primary's node taken away.

Asserted: what must never happen — an idempotent request (GET /me) failing while a pool host dies, an acknowledged
registration (201) lost, the service not back within two minutes of losing its primary — that the standby was
synchronous when the primary went, and that the cluster leaves no namespace, link, process, shared memory or file
behind. Reported (printed, never asserted): failed requests per fault, the longest
interval without a successful /me, and the failover time against the 30 s target.

Skipped, with the reason, where the kernel or the user cannot make network namespaces (not root, an unprivileged
container)."""
import glob
import ipaddress
import json
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
    """Three octets of a 10.x.y.0/24 that no route of this machine overlaps (scripts/cluster's own check), or a skip
    when none of many tries is free (a machine routing all of 10/8)."""
    routes = json.loads(subprocess.run(["ip", "-4", "-j", "route", "show", "table", "all"], capture_output=True,
                                       text=True, check=True).stdout)
    routed = []
    for route in routes:
        destination = route.get("dst", "")
        if destination in ("", "default") or route.get("type") == "broadcast":
            continue
        try:
            routed.append(ipaddress.ip_network(destination if "/" in destination else destination + "/32", strict=False))
        except ValueError:
            pass
    for _ in range(500):
        candidate = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
        if not any(network.overlaps(ipaddress.ip_network(candidate + ".0/24")) for network in routed):
            return candidate
    pytest.skip("no free 10.200-250.x.0/24 on this machine for the cluster's namespaces")


class Cluster:
    def __init__(self):
        self.name = "t" + uuid.uuid4().hex[:6]
        self.run_dir = os.path.join(RUN_DIR, f"cluster-{self.name}")
        self.port = free_port()
        self.env = dict(os.environ, CLUSTER_RUN_DIR=self.run_dir, CLUSTER_NAME=self.name, CLUSTER_SUBNET=free_subnet(),
                        CLUSTER_HTTP_PORT=str(self.port), CLUSTER_HTTPS_PORT=str(free_port()), USER_SERVICE_BIN=BIN,
                        BCRYPT_ROUNDS="4")
        self.namespace_inodes, self.processes, self.segments = set(), set(), set()
        self.shm_files_before = set(glob.glob("/dev/shm/PostgreSQL.*"))
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
        self.note_what_runs()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def command(self, *args):
        result = subprocess.run([CLUSTER, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"scripts/cluster {' '.join(args)}: {result.stderr}"
        return result.stdout

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

    def note_what_runs(self):
        """Remembers what the cluster runs now, to find it left behind later: its namespaces (by inode: a process
        still inside keeps one alive after `ip netns del`), its processes (pid and start time: the namespaces',
        nginx's and the supervisors', with their children) and the System V segments its postmaster.pid files name."""
        for path in glob.glob(f"/run/netns/{self.name}-*"):
            self.namespace_inodes.add(os.stat(path).st_ino)
            pids = subprocess.run(["ip", "netns", "pids", os.path.basename(path)], capture_output=True, text=True).stdout
            self.processes.update(process for pid in pids.split() if (process := process_of(int(pid))))
        for pid_file in [os.path.join(self.run_dir, "front.pid")] + glob.glob(os.path.join(self.run_dir, "pool*", "supervisor.pid")):
            with open(pid_file) as f:
                pid = int(f.read())
            self.processes.update(process for p in [pid] + children_of(pid) if (process := process_of(p)))
        for pid_file in glob.glob(os.path.join(self.run_dir, "pg", "*", "data", "postmaster.pid")):
            with open(pid_file) as f:
                lines = f.read().splitlines()
            if len(lines) >= 7 and len(lines[6].split()) == 2:
                key, shmid = lines[6].split()
                self.segments.add((int(key), int(shmid)))

    def leftovers(self):
        namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        return ([line for line in namespaces.splitlines() if line.startswith(self.name + "-")] +
                [line for line in links.splitlines() if f" {self.name}-" in line] +
                ([self.run_dir] if os.path.exists(self.run_dir) else []) +
                [f"process {pid} ({command_of(pid)})" for pid, _ in self.processes_left()] +
                [f"shared memory segment {shmid} (key {key})" for key, shmid in self.segments_left()] +
                self.shm_files_left())

    def processes_left(self):
        """Every process noted running that still runs, one still inside the cluster's namespaces, or one naming
        its folder on its command line or in its environment (the supervisors, nginx's master)."""
        left = {process for process in self.processes if process_of(process[0]) == process}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                inside = os.stat(f"/proc/{entry}/ns/net").st_ino in self.namespace_inodes
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    text = f.read()
                with open(f"/proc/{entry}/environ", "rb") as f:
                    text += b"\0" + f.read()
                naming = any(self.run_dir.encode() + end in text + b"\0" for end in (b"/", b"\0"))
            except OSError:
                continue  # gone meanwhile
            if (inside or naming) and (process := process_of(int(entry))):
                left.add(process)
        return sorted(left)

    def segments_left(self):
        """The System V segments the nodes' postmaster.pid files named that still exist with their key."""
        listing = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout.split()
        return sorted((key, shmid) for key, shmid in self.segments
                      if any(f"0x{key:08x}" == listing[i] and str(shmid) == listing[i + 1] for i in range(len(listing) - 1)))

    def shm_files_left(self):
        """/dev/shm/PostgreSQL.* files made since the cluster started that no process maps any more (the nodes use
        dynamic_shared_memory_type = mmap: they should make none; another PostgreSQL's are mapped while they exist)."""
        new = set(glob.glob("/dev/shm/PostgreSQL.*")) - self.shm_files_before
        if not new:
            return []
        mapped = set()
        for maps in glob.glob("/proc/[0-9]*/maps"):
            try:
                with open(maps) as f:
                    mapped.update(line.split()[-1] for line in f if "/dev/shm/PostgreSQL." in line)
            except OSError:
                pass
        return sorted(path for path in new if os.path.exists(path) and path not in mapped)


def process_of(pid):
    """(pid, start time) while the process runs (a zombie has ended): a pid reused later is another process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else (pid, int(fields[19]))
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid):
    children = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                children += [int(child) for child in f.read().split()]
        except OSError:
            pass
    return children + [grandchild for child in children for grandchild in children_of(child)]


def command_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "gone"


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
        """Failed requests by kind, the longest interval without a successful /me, over [start, end]: every request
        that overlaps it counts (one started before the fault and answered during it included)."""
        with self.lock:
            records = [r for r in self.records if r[1] < end and r[2] > start]
        ok = {"register": 201, "login": 200, "me": 200}
        failed = {kind: sum(1 for k, _, _, outcome in records if k == kind and outcome != ok[kind]) for kind in ok}
        total = {kind: sum(1 for k, *_ in records if k == kind) for kind in ok}
        me_ok = sorted(min(ended, end) for kind, _, ended, outcome in records if kind == "me" and outcome == 200)
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
        if c.process.poll() is None:
            c.note_what_runs()  # the restarted pools' processes, the killed node's segment
        c.stop()
        assert c.leftovers() == [], f"the cluster left these behind: {c.leftovers()}"


def test_faults_lose_no_idempotent_request_and_no_acknowledged_registration(cluster, capsys):
    load = Load(cluster)
    reports = []
    try:
        begin = time.monotonic()
        load.wait_for_successes("me", begin, 200, 20, begin + 60)

        # The faults' windows follow each other without a gap: a request in flight when one ends counts in both.
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
        end = time.monotonic()
        reports.append(load.report("pool host 1's master killed (kill -9), restarted 2 s later", start, end))

        # 2. Pool host 2 stopped (drained), the front end serving from host 1 alone, then started again.
        start = end
        cluster.command("pool", "2", "stop")
        stopped = time.monotonic()
        load.wait_for_successes("me", stopped, 200, 40, stopped + 60)
        cluster.command("pool", "2", "start")
        started = time.monotonic()
        load.wait_for_successes("me", started, 200, 40, started + 60)
        end = time.monotonic()
        reports.append(load.report("pool host 2 stopped, then started", start, end))

        for report in reports:
            assert report["failed"]["me"] == 0, f"GET /me failed while a pool host died: {report}"

        # 3. The primary's node taken away: its link cut, then its keeper, postmaster and backends killed. The monitor
        # promotes the standby; every worker's next connection finds it through target_session_attrs=read-write.
        # First: the standby is synchronous (every acknowledged write is on it), or losing the primary may lose writes.
        standbys = [line.split("|") for line in cluster.command("replication").split()]
        assert any(state in ("sync", "quorum") for _, state in standbys), f"no synchronous standby: {standbys}"
        start = end
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

    # Every acknowledged registration logs in, on the new primary: 401 says the account is gone; anything else
    # (a 5xx, a connection error) is asked again, all of them within one deadline.
    session = requests.Session()
    lost = []
    deadline = time.monotonic() + BACK_WITHIN_SECONDS
    for email in load.registered:
        while True:
            try:
                status = session.post(cluster.url("/api/v1/auth/login"), json={"email": email, "password": PASSWORD},
                                      timeout=30).status_code
            except requests.RequestException as error:
                status = type(error).__name__
            if status in (200, 401):
                break
            assert time.monotonic() < deadline, f"the logins after the faults were not all answered in time: {status}"
            time.sleep(0.2)
        if status == 401:
            lost.append(email)
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


@pytest.mark.parametrize("subnet", ["11.1.2", "172.32.0", "192.169.1", "8.8.8", "10.256.1", "010.1.2", "10.1"])
def test_only_a_private_subnet_is_taken(subnet):
    result = subprocess.run([CLUSTER, "down"], env=dict(os.environ, CLUSTER_SUBNET=subnet,
                                                         CLUSTER_RUN_DIR=os.path.join(RUN_DIR, "no-cluster")),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "must be three octets of a private network" in result.stderr, result.stderr


def test_down_without_a_state_file_removes_nothing():
    """Namespaces named like this cluster's may be another cluster's: without a state file naming them, `down`
    refuses, saying so, and leaves them."""
    name = "t" + uuid.uuid4().hex[:6]
    subprocess.run(["ip", "netns", "add", f"{name}-lan"], check=True, timeout=30)
    try:
        result = subprocess.run([CLUSTER, "down"], env=dict(os.environ, CLUSTER_NAME=name, CLUSTER_SUBNET="10.213.47",
                                                             CLUSTER_RUN_DIR=os.path.join(RUN_DIR, f"cluster-{name}")),
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 1 and "no state file there): nothing removed" in result.stderr, result.stderr
        assert f"{name}-lan" in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["ip", "netns", "del", f"{name}-lan"], check=True, timeout=30)
