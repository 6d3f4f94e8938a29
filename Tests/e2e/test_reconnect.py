"""Issue 11 item 10: a PostgreSQL restart under an idle pool costs no request, writes included, on any worker.

The test restarts a cluster of its own, so the suite's shared cluster is never interrupted.
"""
import os
import re
import subprocess
import time
import urllib.parse

import requests

from auth_helpers import PASSWORD
from conftest import ROOT, RUN_DIR, Stack, create_database, free_port, migrate, wait_for

POSTGRES = os.path.join(ROOT, "scripts", "postgres")


def register(stack):
    name = os.urandom(5).hex()
    return requests.post(stack.url("/api/v1/auth/register"), timeout=10, json={
        "email": f"{name}@example.com", "username": f"user_{name}", "full_name": "Test User",
        "password": PASSWORD, "confirm_password": PASSWORD})


def register_on_every_worker(stack, workers, deadline_seconds=60):
    """Registers accounts until each worker has answered at least one (and more of them than the workers);
    returns every status seen. Which worker accepts a request is the kernel's choice, hence the loop."""
    statuses = []
    before = len(re.findall(r"route=/api/v1/auth/register ", stack.pool_log()))
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        statuses.append(register(stack).status_code)
        lines = re.findall(r"route=/api/v1/auth/register status=\d+ .* pid=(\d+)", stack.pool_log())[before:]
        if set(lines) == {str(pid) for pid in workers}:
            return statuses
    raise AssertionError(f"not every worker answered a registration: {set(lines)} of {workers}; statuses {statuses}")


def test_a_postgresql_restart_under_an_idle_pool_costs_no_request(monkeypatch):
    pg_dir = os.path.join(RUN_DIR, f"reconnect-pg-{os.getpid()}-{time.monotonic_ns()}")
    port = free_port()
    subprocess.run([POSTGRES, "start", pg_dir, str(port)], check=True)
    stack = None
    try:
        # The cluster listens on its socket folder only and wants its own generated password: a pgpass file that
        # names it, before the suite's, for psql, migrate and the pool alike.
        pgpass = os.path.join(pg_dir, "pgpass")
        socket_dir = os.path.join(pg_dir, "socket")
        with open(os.path.join(pg_dir, "superuser-password")) as f:
            lines = [f"{socket_dir}:{port}:*:postgres:{f.read().strip()}\n"]
        if os.environ.get("PGPASSFILE"):
            with open(os.environ["PGPASSFILE"]) as f:
                lines += f.readlines()
        with open(os.open(pgpass, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.writelines(lines)
        monkeypatch.setenv("PGPASSFILE", pgpass)
        url = create_database(f"postgresql://postgres@{urllib.parse.quote(socket_dir, safe='')}:{port}/postgres")
        assert migrate(url).returncode == 0
        stack = Stack("reconnect", database=url, workers=3)
        workers = stack.worker_pids()
        # Every worker holds an open connection, used by a write, before the restart.
        assert set(register_on_every_worker(stack, workers)) == {201}

        subprocess.run([POSTGRES, "stop", pg_dir], check=True)
        subprocess.run([POSTGRES, "start", pg_dir, str(port)], check=True)

        # Each worker's first request after the restart is a write on a connection the server closed.
        statuses = register_on_every_worker(stack, workers)
        assert statuses == [201] * len(statuses)
        assert stack.worker_pids() == workers
        assert "database unavailable" not in stack.pool_log()
    finally:
        if stack:
            stack.stop()
        subprocess.run([POSTGRES, "stop", pg_dir])
