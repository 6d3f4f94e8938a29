"""A multi-host DATABASE_URL (the primary and its standby, docs/deploy.md): libpq tries the hosts in order and keeps
the first that takes writes, in the URI form (hosts percent-encoded, unix socket folders included) and in the keyword
form, through the service's own connection code (PQconnectdbParams with expand_dbname, plus the pinned options)."""
import os
import subprocess
import urllib.parse

from conftest import BIN, MIGRATIONS, create_database, migrate

GONE = "/nonexistent-user-service-db"  # a host that is not there: libpq moves on to the next one


def migrate_status(url):
    env = dict(os.environ, DATABASE_URL=url, MIGRATIONS_DIR=MIGRATIONS)
    env.pop("MIGRATION_DATABASE_URL", None)
    return subprocess.run([BIN, "migrate", "--status"], env=env, capture_output=True, text=True, timeout=60)


def test_migrate_and_the_pool_connect_through_a_multi_host_url_in_both_forms():
    database = create_database()
    assert migrate(database).returncode == 0
    parts = urllib.parse.urlsplit(database)
    socket_dir, port, name = urllib.parse.unquote(parts.hostname), parts.port, parts.path.lstrip("/")
    settings = "target_session_attrs=read-write&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&tcp_user_timeout=5000"
    uri = (f"postgresql://{parts.username}@{urllib.parse.quote(GONE, safe='')}:{port},"
           f"{urllib.parse.quote(socket_dir, safe='')}:{port}/{name}?{settings}")
    keywords = (f"host={GONE},{socket_dir} port={port},{port} dbname={name} user={parts.username} "
                + settings.replace("&", " ") + " options='-c search_path=public'")
    for url in (uri, keywords):
        result = migrate_status(url)
        assert result.returncode == 0, result.stderr
        assert "applied  0001_users" in result.stdout and "pending" not in result.stdout
    # Only the host that is gone: the failure names it (nothing is served from a host list with no server).
    result = migrate_status(f"postgresql://{parts.username}@{urllib.parse.quote(GONE, safe='')}:{port}/{name}")
    assert result.returncode != 0 and GONE in result.stderr
