"""The data layer end to end: migrations run by the real binary, and surviving a PostgreSQL outage."""
import os
import subprocess
import time
import urllib.parse
import uuid

import requests

from auth_helpers import bearer, new_user
from conftest import BASE_URL, BIN, MIGRATIONS, ROOT, RUN_DIR, Stack, cluster_url, create_database, free_port, migrate, psql


def test_concurrent_migrate_runs_apply_each_migration_once():
    url = create_database()
    env = dict(os.environ, DATABASE_URL=url, MIGRATIONS_DIR=MIGRATIONS)
    runs = [subprocess.Popen([BIN, "migrate"], env=env, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [(p.wait(timeout=60), p.stderr.read()) for p in runs]
    assert [code for code, _ in outputs] == [0, 0, 0, 0], outputs
    files = sorted(f for f in os.listdir(MIGRATIONS) if f.endswith(".sql"))
    assert psql("SELECT count(*) FROM schema_migrations", url=url) == str(len(files))
    applied = sum(text.count("applied migration") for _, text in outputs)
    assert applied == len(files)


def test_migrate_status_and_edited_migration(tmp_path):
    url = create_database()
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (id int);")
    (folder / "0002_b.sql").write_text("CREATE TABLE b (id int);")
    env = dict(os.environ, DATABASE_URL=url, MIGRATIONS_DIR=str(folder))
    status = subprocess.run([BIN, "migrate", "--status"], env=env, capture_output=True, text=True)
    assert status.stdout.split("\n")[:2] == ["pending  0001_a", "pending  0002_b"]
    assert migrate(url, str(folder)).returncode == 0
    status = subprocess.run([BIN, "migrate", "--status"], env=env, capture_output=True, text=True)
    assert status.stdout.split("\n")[:2] == ["applied  0001_a", "applied  0002_b"]
    (folder / "0001_a.sql").write_text("CREATE TABLE a (id bigint);")
    result = migrate(url, str(folder))
    assert result.returncode == 1
    assert "0001_a was edited after it was applied" in result.stderr


def test_migrate_without_database_names_the_variable():
    result = subprocess.run([BIN, "migrate"], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
    assert result.returncode == 1 and "DATABASE_URL is required" in result.stderr


def test_users_table_constraints():
    url = create_database()
    assert migrate(url).returncode == 0
    insert = "INSERT INTO users (email, username, hashed_password) VALUES ('{}', '{}', '$2b$04$abcdefghijklmnopqrstuu')"
    psql(insert.format("a@example.com", "alice"), url=url)
    for email, username in [("A@example.com", "bob"), ("b@example.com", "ALICE"), ("no-at-sign", "carol"),
                            ("c@example.com", "has space"), ("d@example.com", "x@y")]:
        result = subprocess.run(["psql", "-X", "-q", url, "-c", insert.format(email, username)], capture_output=True)
        assert result.returncode != 0, (email, username)
    assert psql("SELECT is_active, is_verified, is_premium, last_login IS NULL FROM users", url=url) == "t|f|f|t"


def test_outage_answers_503_quickly_and_recovers_without_restarting_the_pool(tmp_path):
    pg_dir = os.path.join(RUN_DIR, f"outage-pg-{os.getpid()}-{time.monotonic_ns()}")
    port = free_port()
    script = os.path.join(ROOT, "scripts", "postgres")
    subprocess.run([script, "start", pg_dir, str(port)], check=True)
    stack = None
    try:
        with open(os.path.join(pg_dir, "superuser-password")) as f:
            base = cluster_url(os.path.join(pg_dir, "socket"), port, password=f.read().strip())
        url = create_database(base)
        assert migrate(url).returncode == 0
        stack = Stack("outage", database=url, workers=2)
        assert requests.get(stack.url("/health")).status_code == 200
        workers = stack.worker_pids()

        subprocess.run([script, "stop", pg_dir], check=True)
        for path in ("/health", "/db/status"):
            response = requests.get(stack.url(path), timeout=10)  # no hang: answered, not timed out
            assert response.status_code == 503, response.text
            assert response.json()["detail"] == "Database unavailable"
        metrics = requests.get(stack.url("/metrics")).text
        assert "user_service_database_errors_total 0" not in metrics

        subprocess.run([script, "start", pg_dir, str(port)], check=True)
        for path in ("/health", "/db/status"):
            assert requests.get(stack.url(path)).status_code == 200
            assert requests.get(stack.url(path)).status_code == 200
        assert stack.worker_pids() == workers
        assert "ended with" not in stack.pool_log()
    finally:
        if stack:
            stack.stop()
        subprocess.run([script, "stop", pg_dir])


def test_separate_roles_owner_migrates_and_the_pool_has_data_rights_only(make_stack):
    """docs/deploy.md's two roles: migrate as the schema owner, serve as a role with data rights only."""
    suffix = uuid.uuid4().hex[:8]
    owner, app = f"owner_{suffix}", f"app_{suffix}"
    password = uuid.uuid4().hex  # every connection authenticates (scram), these roles too
    psql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'; CREATE ROLE {app} LOGIN PASSWORD '{password}'", stdin=True)
    url = create_database()
    name = url.rsplit("/", 1)[1]
    psql(f"ALTER DATABASE {name} OWNER TO {owner}")
    psql(f"""ALTER SCHEMA public OWNER TO {owner};
             REVOKE ALL ON SCHEMA public FROM PUBLIC;
             GRANT USAGE ON SCHEMA public TO {app};
             ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
             ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app};""", url=url)
    owner_url = url.replace("postgres@", f"{owner}:{password}@")
    app_url = url.replace("postgres@", f"{app}:{password}@")
    result = migrate(app_url, extra_env={"MIGRATION_DATABASE_URL": owner_url})
    assert result.returncode == 0, result.stderr
    assert psql("SELECT tableowner FROM pg_tables WHERE tablename = 'users'", url=url) == owner
    stack = make_stack(name="roles", workers=1, database=app_url)
    with requests.Session() as http:
        user, tokens = new_user(http, stack)
        assert http.get(stack.url("/api/v1/auth/me"), headers=bearer(tokens)).json()["id"] == user["id"]
        assert http.post(stack.url("/api/v1/auth/logout"), headers=bearer(tokens)).status_code == 200
    # The pool's role cannot change the schema.
    denied = subprocess.run(["psql", "-X", "-q", app_url, "-c", "DROP TABLE security_events"], capture_output=True, text=True)
    assert denied.returncode != 0 and "must be owner" in denied.stderr


def test_the_test_cluster_authenticates_every_local_connection():
    """make test's PostgreSQL: a unix socket only, in a folder other users cannot enter, and scram for everyone."""
    assert psql("SHOW listen_addresses") == ""
    assert psql("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method IN ('trust', 'peer', 'ident')") == "0"
    no_password = subprocess.run(["psql", "-X", "-w", BASE_URL, "-c", "SELECT 1"], capture_output=True, text=True,
                                 env=dict(os.environ, PGPASSFILE="/dev/null"))
    assert no_password.returncode != 0 and "no password supplied" in no_password.stderr
    wrong = subprocess.run(["psql", "-X", "-w", BASE_URL.replace("postgres@", "postgres:wrong@", 1), "-c", "SELECT 1"],
                           capture_output=True, text=True, env=dict(os.environ, PGPASSFILE="/dev/null"))
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    if os.geteuid() == 0:
        socket_dir = urllib.parse.unquote(BASE_URL.split("@", 1)[1].rsplit(":", 1)[0])
        other = subprocess.run(["runuser", "-u", "nobody", "--", "psql", "-X", "-w", "-h", socket_dir, "-p",
                                BASE_URL.rsplit(":", 1)[1].split("/")[0], "-U", "postgres", "-c", "SELECT 1"],
                               capture_output=True, text=True, env=dict(os.environ, PGPASSFILE="/dev/null"))
        assert other.returncode != 0 and "Permission denied" in other.stderr
