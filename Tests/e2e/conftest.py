"""End-to-end harness: the real binary behind a real nginx, on a real PostgreSQL, driven over HTTP.

`make test` starts one PostgreSQL cluster (a unix socket only, scram authentication: the harness's password is
in the 0600 file PGPASSFILE names) and exports TEST_DATABASE_URL, TEST_RUN_DIR and USER_SERVICE_BIN.
Each Stack gets a database of its own (migrated by the real `user-service migrate`), its own pool and its own
nginx on free ports, in a folder that only the pool and nginx's workers can enter. Tests that kill, reload or
stop things build their own Stack; the rest share one.
"""
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("USER_SERVICE_BIN") or pytest.fail("USER_SERVICE_BIN is not set: run the tests with `make test`")
BASE_URL = os.environ.get("TEST_DATABASE_URL") or pytest.fail("TEST_DATABASE_URL is not set: run the tests with `make test`")
RUN_DIR = os.environ.get("TEST_RUN_DIR", "/tmp")
MIGRATIONS = os.path.join(ROOT, "Migrations")


_handed_out = set()


def free_port():
    """A port nothing listens on now, never one this run already handed out (the kernel may offer a port again
    once its socket is closed: a Stack's HTTP and HTTPS ports could otherwise be one)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def database_url(name, base=BASE_URL):
    return base.rsplit("/", 1)[0] + "/" + name


def cluster_url(socket_dir, port, user="postgres", password=None, database="postgres"):
    """A libpq URL for a cluster that listens on a unix socket in socket_dir (the path percent-encoded as the host)."""
    credentials = user + (f":{password}" if password is not None else "")
    return f"postgresql://{credentials}@{urllib.parse.quote(socket_dir, safe='')}:{port}/{database}"


AS_ROOT = os.geteuid() == 0
# The FastCGI sockets' mode: as root, reachable through the group of nginx's workers only (see private_folder).
SOCKET_MODE = "660" if AS_ROOT else "600"


def private_folder(path):
    """A folder only the pool and nginx's workers enter, as `make run` makes its socket folder: as root,
    root:www-data 2710 (what is made inside belongs to group www-data, so sockets of mode 0660 reach nginx's
    workers and no other user); otherwise 0700 (nginx's workers run as the caller)."""
    os.makedirs(path, exist_ok=True)
    if AS_ROOT:
        os.chown(path, 0, int(subprocess.run(["getent", "group", "www-data"], capture_output=True, text=True,
                                             check=True).stdout.split(":")[2]))
        os.chmod(path, 0o2710)
    else:
        os.chmod(path, 0o700)
    return path


def psql(sql, url=BASE_URL, check=True, stdin=False):
    """Runs SQL through psql and returns its unaligned output. stdin=True sends the SQL on psql's standard input
    instead of its command line (for SQL that holds a password: a command line is visible to every local user)."""
    command = ["psql", "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url] + ([] if stdin else ["-c", sql])
    result = subprocess.run(command, input=sql if stdin else None, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"psql failed: {result.stderr}")
    return result.stdout.strip()


def create_database(base=BASE_URL):
    name = "e2e_" + uuid.uuid4().hex[:12]
    psql(f"CREATE DATABASE {name}", url=base)
    return database_url(name, base)


def migrate(url, migrations=MIGRATIONS, extra_env=None, binary=BIN):
    env = dict(os.environ, DATABASE_URL=url, MIGRATIONS_DIR=migrations, **(extra_env or {}))
    return subprocess.run([binary, "migrate"], env=env, capture_output=True, text=True, timeout=120)


def wait_for(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


class Stack:
    """One pool + one nginx in a private folder, on a database of its own."""

    def __init__(self, name="stack", env=None, nginx_env=None, workers=2, database=None, site=None, notify_socket=None,
                 start_nginx=True, binary=BIN, wrapper=(), migrations=MIGRATIONS, password_workers=0, listen=None):
        self.dir = private_folder(os.path.join(RUN_DIR, f"{name}-{uuid.uuid4().hex[:8]}"))
        self.socket_path = os.path.join(self.dir, "pool.sock")
        # The pool's address: its unix socket, or HOST:PORT (a pool host on TCP).
        self.listen = listen or f"unix:{self.socket_path}"
        self.password_socket_path = os.path.join(self.dir, "password.sock") if password_workers else None
        self.binary = binary
        self.wrapper = list(wrapper)
        self.database_url = database or create_database()
        if database is None:
            result = migrate(self.database_url, migrations, binary=binary)
            assert result.returncode == 0, result.stderr
        self.env_file = os.path.join(self.dir, "user-service.env")
        self.settings = {
            "DATABASE_URL": self.database_url,
            "JWT_SECRET_KEY": secrets.token_hex(32),
            "MIGRATIONS_DIR": migrations,
            "WORKERS": str(workers),
            "BCRYPT_ROUNDS": "4",
            "DRAIN_TIMEOUT_SECONDS": "10",
            "DB_CONNECT_TIMEOUT_SECONDS": "2",
            # Race tests hold a row while a request waits on it: on a loaded machine the wait can pass the default
            # 5 s statement timeout before the test commits.
            "DB_STATEMENT_TIMEOUT_MS": "30000",
            # Off unless a test turns it on (test_session_cache.py): tests that change rows by direct SQL expect the
            # next request to see the change, which the cache only guarantees once the notification is delivered.
            "SESSION_CACHE_SECONDS": "0",
        }
        if password_workers:
            self.settings["PASSWORD_WORKERS"] = str(password_workers)
        self.settings.update(env or {})
        self.write_env(self.settings)
        self.notify_socket = notify_socket
        self.http_port = free_port()
        self.https_port = free_port()
        self.nginx_env = {
            "USER_SERVICE_SOCKET": self.socket_path,
            "USER_SERVICE_PASSWORD_SOCKET": self.password_socket_path or self.socket_path,
            "NGINX_HTTP_PORT": str(self.http_port),
            "NGINX_HTTPS_PORT": str(self.https_port),
            "NGINX_LISTEN_ADDRESS": "127.0.0.1",
            "NGINX_WORKERS": "1",
            "RATE_LIMIT_AUTH": "6000r/m",
            "RATE_LIMIT_AUTH_BURST": "1000",
            "RATE_LIMIT_API": "5000r/s",
            "RATE_LIMIT_API_BURST": "5000",
            "TLS_CERT": os.path.join(self.dir, "tls.crt"),
            "TLS_KEY": os.path.join(self.dir, "tls.key"),
        }
        self.nginx_env.update(nginx_env or {})
        self.site = site
        self.pool = None
        self.nginx = None
        self.start_pool()
        if start_nginx:
            try:
                self.start_nginx()
            except BaseException:
                self.stop()  # a stack that failed to start leaves nothing running
                raise

    # --- the pool -------------------------------------------------------------------------------------------
    def write_env(self, settings):
        with open(os.open(self.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            for key, value in settings.items():
                f.write(f"{key}={value}\n")

    def start_pool(self, wait=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "NOTIFY_"))}
        if self.notify_socket:
            env["NOTIFY_SOCKET"] = self.notify_socket
        self.pool_log_path = os.path.join(self.dir, "pool.log")
        self.pool_log_file = open(self.pool_log_path, "ab")
        started_at = self.pool_log_file.tell()  # a restart waits for its own "pool ready", not the last start's
        password = ["--listen-password", f"unix:{self.password_socket_path}"] if self.password_socket_path else []
        self.pool = subprocess.Popen(self.wrapper + [self.binary, "serve", "--listen", self.listen] + password +
                                     ["--socket-mode", SOCKET_MODE, "--env-file", self.env_file], env=env,
                                     stdout=self.pool_log_file, stderr=subprocess.STDOUT)
        if wait:
            wait_for(lambda: "pool ready" in self.pool_log()[started_at:] or self.pool.poll() is not None, message="pool ready")
            assert self.pool.poll() is None, self.pool_log()

    def pool_log(self):
        with open(self.pool_log_path, errors="replace") as f:
            return f.read()

    def master_pid(self):
        """The master's pid (the pool process itself, or the one a wrapper such as strace started)."""
        if not self.wrapper:
            return self.pool.pid
        out = subprocess.run(["pgrep", "-f", "-x", f"{self.binary} serve --listen {self.listen} .*"],
                             capture_output=True, text=True).stdout.split()
        return int(out[0])

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.master_pid())], capture_output=True, text=True).stdout
        return sorted(int(p) for p in out.split())

    def signal_pool(self, sig):
        os.kill(self.master_pid(), sig)

    def stop_pool(self, timeout=20):
        if self.pool and self.pool.poll() is None:
            try:
                os.kill(self.master_pid(), signal.SIGTERM)
            except (IndexError, ProcessLookupError):
                self.pool.send_signal(signal.SIGTERM)
            try:
                self.pool.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.pool.kill()
                self.pool.wait()
        if self.pool:
            self.pool_log_file.close()
        return self.pool.returncode if self.pool else None

    # --- nginx ----------------------------------------------------------------------------------------------
    def render_nginx(self, out_dir, env_overrides=None):
        env = dict(os.environ, **self.nginx_env, **(env_overrides or {}))
        result = subprocess.run([os.path.join(ROOT, "scripts", "render-nginx"), "--out", out_dir, "--local", out_dir,
                                 "--bin", self.binary], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result

    def start_nginx(self):
        if not os.path.exists(self.nginx_env["TLS_CERT"]):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", self.nginx_env["TLS_KEY"],
                            "-out", self.nginx_env["TLS_CERT"]], check=True, capture_output=True)
        self.nginx_dir = os.path.join(self.dir, "nginx")
        self.render_nginx(self.nginx_dir)
        if self.site is not None:
            with open(os.path.join(self.nginx_dir, "sites", "user-service.conf"), "w") as f:
                f.write(self.site.replace("@SNIPPETS@", os.path.join(self.nginx_dir, "snippets"))
                        .replace("@PORT@", str(self.http_port)))
        conf = os.path.join(self.nginx_dir, "nginx.conf")
        test = subprocess.run(["nginx", "-t", "-q", "-p", self.nginx_dir, "-c", conf], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self.nginx = subprocess.Popen(["nginx", "-p", self.nginx_dir, "-c", conf, "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.port_open, message="nginx listening")

    def port_open(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.http_port)) == 0

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def https_url(self, path):
        return f"https://127.0.0.1:{self.https_port}{path}"

    def stop(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        self.stop_pool()


@pytest.fixture(scope="session")
def stack():
    s = Stack("shared")
    yield s
    s.stop()


@pytest.fixture
def make_stack():
    stacks = []

    def make(**kwargs):
        s = Stack(**kwargs)
        stacks.append(s)
        return s

    yield make
    for s in stacks:
        s.stop()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


class HeldTransaction:
    """An open psql transaction that has run `sql` (a lock, a write), so requests that touch the same rows wait in
    flight until `commit(more)` runs `more` in it and commits."""

    def __init__(self, url, sql):
        self.url = url
        self.process = subprocess.Popen(["psql", "-X", "-w", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.process.stdin.write(f"BEGIN; {sql}; SELECT 'held';\n")
        self.process.stdin.flush()
        for line in self.process.stdout:  # past what `sql` printed
            if line.strip() == "held":
                return
        raise AssertionError("psql ended before holding the transaction")

    def wait_for_waiter(self):
        wait_for(lambda: psql("SELECT count(*) FROM pg_locks WHERE NOT granted", url=self.url) != "0",
                 message="a request waiting on the held transaction")

    def commit(self, sql=""):
        if self.process.poll() is None:
            self.process.stdin.write(f"{sql}; COMMIT;\n" if sql else "COMMIT;\n")
            self.process.stdin.close()
            assert self.process.wait(timeout=30) == 0


class TableLock(HeldTransaction):
    """Holds an exclusive lock on a table, so a request touching it stays in flight until `release()`."""

    def __init__(self, url, table):
        super().__init__(url, f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self):
        self.commit()
