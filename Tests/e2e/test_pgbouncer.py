"""The pool behind Debian's PgBouncer (1.18) in transaction mode: the startup `options` parameter it refuses is not
sent (DB_STARTUP_OPTIONS=false, the settings on the role instead), nor named prepared statements, which its
transaction mode cannot carry from one server connection to another (DB_PREPARED_STATEMENTS=false). And in session
mode, with the session cache on."""
import os
import secrets
import shutil
import subprocess
import urllib.parse

import pytest

from conftest import AS_ROOT, BASE_URL, RUN_DIR, create_database, free_port, migrate, psql, wait_for
from auth_helpers import bearer, login, new_user

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


@pytest.fixture
def bouncer(tmp_path):
    """A PgBouncer in transaction mode with two server connections, on a unix socket, in front of a migrated database
    that a role of its own (its settings pinned on the role) may read and write; yields the URL through it."""
    yield from run_bouncer("pool_mode = transaction\ndefault_pool_size = 2\n")


@pytest.fixture
def session_bouncer(tmp_path):
    """The same in session mode (a server connection per client connection), accepting and dropping the startup
    `options` parameter: how the session cache can stay behind PgBouncer (docs/deploy.md)."""
    yield from run_bouncer("pool_mode = session\ndefault_pool_size = 8\nignore_startup_parameters = options\n")


def run_bouncer(settings):
    database = create_database()
    result = migrate(database)
    assert result.returncode == 0, result.stderr
    role, password = "bouncer_" + secrets.token_hex(4), secrets.token_hex(16)
    psql(f"""CREATE ROLE {role} LOGIN PASSWORD '{password}';
ALTER ROLE {role} SET TimeZone = 'UTC';
ALTER ROLE {role} SET DateStyle = 'ISO, YMD';
ALTER ROLE {role} SET statement_timeout = 30000;""", url=BASE_URL, stdin=True)
    psql(f"""GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};""", url=database)
    server = urllib.parse.urlsplit(database)
    folder = os.path.join(RUN_DIR, "bouncer-" + secrets.token_hex(4))
    os.makedirs(folder, mode=0o700)
    port = free_port()
    with open(os.path.join(folder, "userlist.txt"), "w") as f:
        f.write(f'"{role}" "{password}"\n')
    with open(os.path.join(folder, "pgbouncer.ini"), "w") as f:
        f.write(f"""[databases]
app = host={urllib.parse.unquote(server.hostname)} port={server.port} dbname={server.path.lstrip('/')}
[pgbouncer]
listen_addr =
listen_port = {port}
unix_socket_dir = {folder}
auth_type = scram-sha-256
auth_file = {folder}/userlist.txt
{settings}max_client_conn = 50
pidfile = {folder}/pgbouncer.pid
""")
    if AS_ROOT:  # PgBouncer will not run as root: as PostgreSQL's user, which can reach the server's socket folder
        subprocess.run(["chown", "-R", "postgres:postgres", folder], check=True)
    log = open(os.path.join(folder, "pgbouncer.log"), "wb")
    process = subprocess.Popen([PGBOUNCER] + (["-u", "postgres"] if AS_ROOT else []) + [os.path.join(folder, "pgbouncer.ini")],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: os.path.exists(os.path.join(folder, f".s.PGSQL.{port}")) or process.poll() is not None,
                 message="PgBouncer's socket")
        assert process.poll() is None, open(os.path.join(folder, "pgbouncer.log")).read()
        yield f"postgresql://{role}:{password}@{urllib.parse.quote(folder, safe='')}:{port}/app"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_the_pool_serves_through_pgbouncer_in_transaction_mode(make_stack, http, bouncer):
    # With the defaults PgBouncer refuses every connection ("unsupported startup parameter: options").
    refused = make_stack(name="bouncer-defaults", database=bouncer)
    assert http.get(refused.url("/health")).status_code == 503
    refused.stop()

    # Four workers sharing two server connections: every transaction may land on another one.
    stack = make_stack(name="bouncer", database=bouncer, workers=4,
                       env={"DB_STARTUP_OPTIONS": "false", "DB_PREPARED_STATEMENTS": "false", "SESSION_CACHE_SECONDS": "0"})
    assert http.get(stack.url("/health")).json()["database"] == "connected"
    for _ in range(3):
        user, tokens = new_user(http, stack)
        for _ in range(8):
            me = http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens))
            assert me.status_code == 200 and me.json()["email"] == user["email"]
        assert login(http, stack, user["email"])["access_token"]


def test_the_session_cache_works_behind_pgbouncer_in_session_mode(make_stack, http, session_bouncer):
    """Startup options sent and dropped by PgBouncer (the role's settings hold), the cache on: a logout through the API
    holds on the next request whichever worker answers, though each had the session cached. Each worker recognises
    its own transaction's notification by the server's pid it learnt when it started listening, not PgBouncer's key."""
    from test_session_cache import ME, answers_on_every_worker, next_request_refused
    stack = make_stack(name="bouncer-session", database=session_bouncer, workers=3, env={"SESSION_CACHE_SECONDS": "60"})
    user, tokens = new_user(http, stack)
    answers_on_every_worker(stack, ME, tokens, 200)
    assert http.post(stack.url("/api/v1/auth/logout"), headers=bearer(tokens)).status_code == 200
    next_request_refused(stack, ME, tokens, 401)
