"""The local scripts: `make run`'s runtime folder, its private PostgreSQL and FastCGI sockets, `make bench`'s
folder, and scripts that must stop (and say why) when a step fails."""
import os
import re
import signal
import stat
import subprocess
import uuid

import pytest
import requests

from auth_helpers import bearer, new_user
from conftest import AS_ROOT, BIN, ROOT, RUN_DIR, free_port, wait_for

SCRIPTS = os.path.join(ROOT, "scripts")
needs_root = pytest.mark.skipif(not AS_ROOT, reason="other users' folders and sockets need root")  # CI runs as root


def run_script(name, env, timeout=120, drop=()):
    """Runs scripts/NAME to its end; on a timeout, whatever it started is stopped too."""
    env = {k: v for k, v in dict(os.environ, **env).items() if k not in drop}
    process = subprocess.Popen([os.path.join(SCRIPTS, name)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def can_connect_as(user, path):
    """Whether `user` can connect to the unix socket at path (as nginx's workers would)."""
    probe = f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({path!r})"
    return subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c", probe],
                          capture_output=True, text=True).returncode == 0


# --- the runtime folder (make run, make bench) --------------------------------------------------------------------

def unsafe_folders():
    """Folders `make run` must refuse, each with the reason it must give."""
    base = os.path.join(RUN_DIR, f"unsafe-{uuid.uuid4().hex[:8]}")
    os.makedirs(base)
    foreign = os.path.join(base, "foreign")
    os.mkdir(foreign, 0o755)
    os.chown(foreign, 65534, 65534)  # made by another user (nobody), as anyone can in /tmp
    writable = os.path.join(base, "writable")
    os.mkdir(writable)
    os.chmod(writable, 0o777)
    group = os.path.join(base, "group-writable")
    os.mkdir(group)
    os.chmod(group, 0o770)
    link = os.path.join(base, "link")
    os.symlink(writable, link)
    # A planted secret that must not be read: a symbolic link to a file the caller can read.
    os.symlink("/etc/shadow", os.path.join(foreign, "jwt-secret"))
    return [(foreign, "belongs to uid 65534"), (writable, "can be written by its group or others"),
            (group, "can be written by its group or others"), (link, "is a symbolic link")]


@needs_root
def test_make_run_refuses_a_runtime_folder_it_cannot_trust_before_building_anything():
    for folder, reason in unsafe_folders():
        before = os.lstat(folder)
        result = run_script("run", {"USER_SERVICE_RUN_DIR": folder, "USER_SERVICE_BIN": "/nonexistent"}, timeout=30)
        assert result.returncode == 1, (folder, result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("make run: ") and reason in lines[0], (folder, result.stderr)
        assert "== building" not in result.stdout and "PostgreSQL" not in result.stdout
        after = os.lstat(folder)
        assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
        if not os.path.islink(folder):
            assert os.listdir(folder) in ([], ["jwt-secret"])


@needs_root
def test_make_bench_refuses_a_runtime_folder_it_cannot_trust():
    folder, reason = unsafe_folders()[0]
    result = subprocess.run([os.path.join(SCRIPTS, "bench")], env=dict(os.environ, BENCH_RUN_DIR=folder,
                            BENCH_PORT=str(free_port()), USER_SERVICE_BIN="/nonexistent", TMPDIR=RUN_DIR),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], result.stderr


def foreign_parent():
    """A folder of another user (nobody), not writable by the caller's group or others, with a runtime folder path
    below it: its owner could swap the runtime folder while `make run` builds."""
    parent = os.path.join(RUN_DIR, f"foreign-parent-{uuid.uuid4().hex[:8]}")
    os.mkdir(parent, 0o755)
    os.chown(parent, 65534, 65534)
    return parent, os.path.join(parent, "run")


@needs_root
@pytest.mark.parametrize("exists", [False, True])
def test_make_run_refuses_a_runtime_folder_below_a_folder_someone_else_controls(exists):
    parent, folder = foreign_parent()
    if exists:
        os.mkdir(folder, 0o700)  # even one of the caller's own: its parent's owner can rename it away
    # Reached through a symbolic link of the caller's: the resolved path is checked.
    link = os.path.join(RUN_DIR, f"link-{uuid.uuid4().hex[:8]}")
    os.symlink(parent, link)
    for given in (folder, os.path.join(link, "run")):
        result = run_script("run", {"USER_SERVICE_RUN_DIR": given, "USER_SERVICE_BIN": "/nonexistent"}, timeout=30)
        assert result.returncode == 1, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"make run: {parent} (above the runtime folder) belongs to uid "
                                                       "65534"), result.stderr
        assert "== building" not in result.stdout and "PostgreSQL" not in result.stdout
    assert os.listdir(parent) == (["run"] if exists else [])


@needs_root
def test_make_bench_refuses_a_runtime_folder_below_a_folder_someone_else_controls():
    parent, folder = foreign_parent()
    result = subprocess.run([os.path.join(SCRIPTS, "bench")], env=dict(os.environ, BENCH_RUN_DIR=folder,
                            BENCH_PORT=str(free_port()), USER_SERVICE_BIN="/nonexistent", TMPDIR=RUN_DIR),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "above the runtime folder) belongs to uid 65534" in lines[0], result.stderr
    assert os.listdir(parent) == []


def test_make_run_stops_when_the_build_fails(tmp_path):
    """A failed build stops `make run` with the compiler's message, instead of serving the previous binary."""
    shim = tmp_path / "bin"
    shim.mkdir()
    # A compiler that fails the way a broken source would (a real failing build would take minutes).
    (shim / "swift").write_text("#!/bin/sh\necho 'Sources/x.swift:1:1: error: cannot find type in scope' >&2\nexit 1\n")
    (shim / "swift").chmod(0o755)
    folder = os.path.join(RUN_DIR, f"buildfail-{uuid.uuid4().hex[:8]}")
    result = run_script("run", {"USER_SERVICE_RUN_DIR": folder, "PATH": f"{shim}:{os.environ['PATH']}",
                                "PG_PORT": str(free_port()), "NGINX_HTTP_PORT": str(free_port()),
                                "NGINX_HTTPS_PORT": str(free_port())}, timeout=120, drop=("USER_SERVICE_BIN",))
    assert result.returncode == 1, result
    assert "error: cannot find type in scope" in result.stderr
    assert "make run: the build failed" in result.stderr
    assert "== serving" not in result.stdout and "PostgreSQL" not in result.stdout


# --- the make run stack --------------------------------------------------------------------------------------------

@pytest.fixture
def make_run(tmp_path):
    """`make run` for real (scripts/run), serving the binary the tests use, on free ports, in a fresh folder.
    nginx is reached through a shim on PATH that records the environment it was started with (nginx overwrites
    its own /proc/PID/environ with its process title, so that file cannot tell)."""
    folder = os.path.join(RUN_DIR, f"makerun-{uuid.uuid4().hex[:8]}")
    http_port, pg_port = free_port(), free_port()
    shim = tmp_path / "bin"
    shim.mkdir()
    nginx_env = tmp_path / "nginx.env"
    real_nginx = subprocess.run(["sh", "-c", "command -v nginx"], capture_output=True, text=True, check=True).stdout.strip()
    (shim / "nginx").write_text(f"#!/bin/sh\nenv -0 >>'{nginx_env}'\nexec '{real_nginx}' \"$@\"\n")
    (shim / "nginx").chmod(0o755)
    env = dict(os.environ, USER_SERVICE_RUN_DIR=folder, USER_SERVICE_BIN=BIN, PG_PORT=str(pg_port),
               NGINX_HTTP_PORT=str(http_port), NGINX_HTTPS_PORT=str(free_port()), NGINX_WORKERS="1",
               BCRYPT_ROUNDS="4", PATH=f"{shim}:{os.environ['PATH']}")
    for name in ("DATABASE_URL", "MIGRATION_DATABASE_URL", "PGPASSFILE", "JWT_SECRET_KEY"):
        env.pop(name, None)
    log = open(os.path.join(RUN_DIR, f"makerun-{uuid.uuid4().hex[:8]}.log"), "w")
    process = subprocess.Popen([os.path.join(SCRIPTS, "run")], env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"

    def healthy():
        assert process.poll() is None, open(log.name).read()
        try:
            return requests.get(url + "/health", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(healthy, timeout=120, interval=0.2, message="make run serving")
        yield {"dir": folder, "url": url, "pg_port": pg_port, "process": process, "log": log.name,
               "nginx_env": nginx_env}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # its trap stops the pool, nginx and PostgreSQL
            process.wait(timeout=60)
        log.close()


class RunStack:
    def __init__(self, base):
        self.base = base

    def url(self, path):
        return self.base + path


def pg_admin(run, sql, **kwargs):
    env = dict(os.environ, PGPASSFILE=os.path.join(run["dir"], "pgpass"))
    return subprocess.run(["psql", "-X", "-w", "-A", "-t", "-h", os.path.join(run["dir"], "pg", "socket"), "-p", str(run["pg_port"]),
                           "-U", "postgres", "-d", "user_service", "-c", sql], env=env, capture_output=True, text=True,
                          **kwargs)


@needs_root
def test_make_run_folder_sockets_and_database_are_private(make_run, http):
    folder = make_run["dir"]
    info = os.stat(folder)
    assert info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o711  # others pass through, never list or change
    for name in ("jwt-secret", "user-service.env", "pgpass", "tls.key"):
        assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name
    www_data = int(subprocess.run(["getent", "group", "www-data"], capture_output=True, text=True).stdout.split(":")[2])
    # FastCGI sockets: nginx's workers (group www-data) only.
    for name in ("pool.sock", "password.sock"):
        path = os.path.join(folder, "fcgi", name)
        info = os.stat(path)
        assert stat.S_IMODE(info.st_mode) == 0o660 and info.st_gid == www_data, name
        assert can_connect_as("www-data", path), name
        assert not can_connect_as("nobody", path), name
    user, tokens = new_user(http, RunStack(make_run["url"]))
    assert http.get(make_run["url"] + "/api/v1/auth/me", headers=bearer(tokens)).json()["id"] == user["id"]

    # nginx got none of the pool's secrets in its environment.
    with open(make_run["nginx_env"], "rb") as f:
        started_with = [entry.split(b"=", 1)[0] for entry in f.read().split(b"\0") if entry]
    assert b"NGINX_HTTP_PORT" in started_with  # the shim recorded the start
    for name in (b"DATABASE_URL", b"JWT_SECRET_KEY", b"MIGRATION_DATABASE_URL"):
        assert name not in started_with, name

    # PostgreSQL: a unix socket only, in a folder nobody else enters, scram for everyone, no TCP. The cluster's
    # folder belongs to root (the password file, initdb's log); the cluster's user owns only the folders below.
    pg = os.path.join(folder, "pg")
    info = os.stat(pg)
    assert info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o711
    assert stat.S_IMODE(os.stat(os.path.join(pg, "superuser-password")).st_mode) == 0o600
    postgres_uid = int(subprocess.run(["id", "-u", "postgres"], capture_output=True, text=True).stdout)
    for name in ("data", "socket", "log"):
        info = os.stat(os.path.join(pg, name))
        assert info.st_uid == postgres_uid and stat.S_IMODE(info.st_mode) == 0o700, name
    socket_path = os.path.join(pg, "socket", f".s.PGSQL.{make_run['pg_port']}")
    assert os.path.exists(socket_path)
    assert not can_connect_as("nobody", socket_path)
    # The superuser's password goes to that socket folder and port only, never to any host.
    with open(os.path.join(folder, "pgpass")) as f:
        assert f.read().startswith(f"{os.path.join(pg, 'socket')}:{make_run['pg_port']}:*:postgres:")
    assert pg_admin(make_run, "SHOW listen_addresses").stdout.strip() == ""
    assert pg_admin(make_run, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method IN ('trust', 'peer', 'ident')")\
        .stdout.strip() == "0"
    no_password = subprocess.run(["psql", "-X", "-w", "-h", os.path.join(pg, "socket"), "-p", str(make_run["pg_port"]), "-U", "postgres",
                                  "-d", "user_service", "-c", "SELECT 1"], capture_output=True, text=True,
                                 env=dict(os.environ, PGPASSFILE="/dev/null"))
    assert no_password.returncode != 0 and "no password supplied" in no_password.stderr

    # The pool connects as a role that is no superuser and owns nothing; the schema owner migrated.
    env_file = open(os.path.join(folder, "user-service.env")).read()
    assert "MIGRATION_DATABASE_URL" not in env_file
    app_url = re.search(r"^DATABASE_URL=(.*)$", env_file, re.M).group(1)
    assert app_url.startswith("postgresql://user_service:")
    role = subprocess.run(["psql", "-X", "-w", "-A", "-t", app_url, "-c",
                           "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"],
                          capture_output=True, text=True, env=dict(os.environ, PGPASSFILE="/dev/null"))
    assert role.stdout.strip() == "f|f|f", role.stderr
    owners = pg_admin(make_run, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").stdout.split()
    assert owners == ["user_service_owner"]
    denied = subprocess.run(["psql", "-X", "-w", app_url, "-c", "DROP TABLE security_events"], capture_output=True,
                            text=True, env=dict(os.environ, PGPASSFILE="/dev/null"))
    assert denied.returncode != 0 and "must be owner" in denied.stderr

    # SIGTERM (as Ctrl-C) stops everything it started.
    make_run["process"].send_signal(signal.SIGTERM)
    assert make_run["process"].wait(timeout=60) == 143
    assert not os.path.exists(os.path.join(pg, "data", "postmaster.pid"))
    with pytest.raises(requests.ConnectionError):
        requests.get(make_run["url"] + "/health", timeout=5)


def test_make_run_keeps_each_mail_as_a_file_in_its_folder(make_run):
    """Without SMTP_HOST, `make run` starts the mailer and a local catch-all SMTP server: a queued mail ends up as
    files in the runtime folder's mail/, private, with its link readable (README: "Mail in make run")."""
    token = uuid.uuid4().hex
    pg_admin(make_run, f"""INSERT INTO mail_outbox (kind, recipient, variables, expires_at)
                          VALUES ('password_reset', 'dev@example.com', '{{"token": "{token}"}}', now() + interval '1 hour')""",
             check=True)
    mail_dir = os.path.join(make_run["dir"], "mail")
    wait_for(lambda: [n for n in os.listdir(mail_dir) if n.endswith("dev@example.com.txt")], timeout=30,
             message="the mail's file")
    [name] = [n for n in os.listdir(mail_dir) if n.endswith(".txt")]
    text = open(os.path.join(mail_dir, name)).read()
    assert f"{make_run['url']}/reset-password?token={token}" in text and "Subject: Reset your password" in text
    assert stat.S_IMODE(os.stat(mail_dir).st_mode) == 0o700
    # The local server listens on a unix socket in the private runtime folder, not on a port any local user reaches.
    assert stat.S_ISSOCK(os.stat(os.path.join(make_run["dir"], "smtp.sock")).st_mode)
    for file in os.listdir(mail_dir):
        assert stat.S_IMODE(os.stat(os.path.join(mail_dir, file)).st_mode) == 0o600, file
    wait_for(lambda: pg_admin(make_run, "SELECT sent_at IS NOT NULL, variables FROM mail_outbox").stdout.strip() == "t|{}",
             message="the mail marked sent")


# --- scripts/postgres: root never writes through the cluster user's links ---------------------------------------

@needs_root
def test_postgres_script_never_writes_or_reads_through_links_the_clusters_user_planted(tmp_path):
    """PostgreSQL's user controls its own folders; everything root writes (the superuser's password, initdb's log)
    or chowns must stay out of its reach, or a link it plants makes root overwrite any file. The user plants links
    to a root-only sentinel everywhere it can (and where the older layout let it), empties the data folder so the
    next start makes a new cluster, and the sentinel stays as it was."""
    sentinel_dir = tmp_path / "root-only"
    sentinel_dir.mkdir(mode=0o700)
    sentinel = sentinel_dir / "sentinel"
    sentinel.write_text("root's own file\n")
    sentinel.chmod(0o600)
    pg_dir = os.path.join(RUN_DIR, f"links-pg-{uuid.uuid4().hex[:8]}")
    port = free_port()
    postgres = os.path.join(SCRIPTS, "postgres")
    subprocess.run([postgres, "start", pg_dir, str(port)], check=True, capture_output=True, text=True)
    subprocess.run([postgres, "stop", pg_dir], check=True)

    plant = f"""
        cd '{pg_dir}' || exit 1
        for name in superuser-password initdb.log postgres.log; do ln -sf '{sentinel}' "$name" 2>/dev/null; done
        rm -rf data/* data/.[!.]* 2>/dev/null
        for name in superuser-password initdb.log pg_hba.conf postgres.log; do ln -sf '{sentinel}' "data/$name"; done
        rm -f log/postgres.log; ln -s '{sentinel}' log/postgres.log
        rm -f socket/.s.PGSQL.{port}.lock
        exit 0
    """
    subprocess.run(["runuser", "-u", "postgres", "--", "sh", "-c", plant], check=True)
    assert not os.path.exists(os.path.join(pg_dir, "data", "postmaster.pid"))
    try:
        started = subprocess.run([postgres, "start", pg_dir, str(port)], capture_output=True, text=True)
        assert started.returncode == 0, started.stderr
    finally:
        subprocess.run([postgres, "stop", pg_dir])
    info = os.lstat(sentinel)
    assert sentinel.read_text() == "root's own file\n"
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (0, 0, 0o600)
    # The planted links in root's folder never existed (PostgreSQL's user cannot write there).
    assert not os.path.islink(os.path.join(pg_dir, "superuser-password"))
    assert not os.path.islink(os.path.join(pg_dir, "initdb.log"))


# --- scripts that hide failures ------------------------------------------------------------------------------------

def bash_scripts():
    for name in sorted(os.listdir(SCRIPTS)):
        path = os.path.join(SCRIPTS, name)
        with open(path) as f:
            text = f.read()
        if text.startswith("#!/usr/bin/env bash"):
            yield name, text


def test_scripts_stop_on_failure_and_show_it():
    """The patterns that let a failure pass unseen: each one is refused in every bash script."""
    names = [name for name, _ in bash_scripts()]
    assert {"run", "test", "check-deb", "build-deb", "postgres"} <= set(names)
    for name, text in bash_scripts():
        assert "set -euo pipefail" in text, name
        assert subprocess.run(["bash", "-n", os.path.join(SCRIPTS, name)]).returncode == 0, name
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split(" #")[0]
            where = f"scripts/{name}:{number}: {line.strip()}"
            # `! cmd` as a statement: set -e ignores it, so the check can never fail.
            assert not re.match(r"^\s*!\s", code), where
            # A build whose failure or output is swallowed.
            if re.search(r"\bswift (build|test)\b", code) and "--show-bin-path" not in code:
                assert "|| true" not in code and ">/dev/null" not in code, where
                assert not re.search(r"\|\s*(tail|head|grep)\b", code), where
            # `export X=$(cmd)`: export's status hides cmd's failure.
            assert not re.search(r"\bexport\s+\w+=\S*\$\(", code), where
