"""`user-service users ...` end to end: the real binary on the database of a real Stack (configured by the Stack's env
file, as an operator would run it with --env-file), its effects checked through nginx and psql. Administration
(create-admin from standard input, promote/demote/activate/deactivate/verify/revoke-sessions/list/show, the
last-administrator rule, no secret in any output), and export/import: a round trip into an empty database whose users
then log in with their old passwords (one hash made by Python's bcrypt as `$2a$`), a re-import that changes nothing,
a malformed file whose bad lines are reported by number while the good ones go in, and the export file's mode."""
import json
import os
import pty
import select
import signal
import stat
import subprocess
import termios
import time
import tempfile
import uuid

import bcrypt
import pytest

from auth_helpers import PASSWORD, bearer, login, new_user, register
from conftest import BIN, Stack, psql, wait_for

ADMIN_PASSWORD = "Adm1nistrator!x"


@pytest.fixture(scope="module")
def cli_stack():
    s = Stack("users-cli")
    yield s
    s.stop()


def users(stack, *args, input=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET_KEY")}
    return subprocess.run([BIN, "users", *args, "--env-file", stack.env_file], input=input, env=env,
                          capture_output=True, text=True, timeout=120)


def email():
    return f"op_{uuid.uuid4().hex[:10]}@example.com"


def row(stack, sql, *values):
    return psql(sql.format(*values), url=stack.database_url)


def events(stack, address):
    """The account's event types, oldest first, each with whether it names no actor."""
    out = row(stack, "SELECT type || ':' || (actor_id IS NULL) FROM security_events e JOIN users u ON u.id = e.user_id "
                     "WHERE u.email = '{}' ORDER BY e.id", address)
    return out.split("\n") if out else []


def test_create_admin_reads_the_password_twice_from_stdin_and_applies_the_rules(cli_stack, http):
    address = email()
    weak = users(cli_stack, "create-admin", address, input="weakpass\nweakpass\n")
    assert weak.returncode == 1 and "uppercase" in weak.stderr and "weakpass" not in weak.stderr + weak.stdout
    mismatch = users(cli_stack, "create-admin", address, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}y\n")
    assert mismatch.returncode == 1 and "do not match" in mismatch.stderr
    missing = users(cli_stack, "create-admin", address, input=f"{ADMIN_PASSWORD}\n")
    assert missing.returncode == 1
    bad_email = users(cli_stack, "create-admin", "not-an-email", input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert bad_email.returncode == 1 and "email" in bad_email.stderr
    assert row(cli_stack, "SELECT count(*) FROM users WHERE email = '{}'", address) == "0"

    name = "adm_" + uuid.uuid4().hex[:8]
    created = users(cli_stack, "create-admin", address.upper(), "--username", name, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    assert address in created.stdout and name in created.stdout
    assert ADMIN_PASSWORD not in created.stdout + created.stderr and "$2" not in created.stdout + created.stderr
    assert row(cli_stack, "SELECT is_admin, is_active, is_verified FROM users WHERE email = '{}'", address) == "t|t|t"
    assert events(cli_stack, address) == ["admin_promoted:true"]
    login(http, cli_stack, address, ADMIN_PASSWORD)  # the password works through the pool
    again = users(cli_stack, "create-admin", address, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    derived = users(cli_stack, "create-admin", f"derived.{name}@example.com", input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert derived.returncode == 0 and f"username derived.{name}" in derived.stdout


def test_ctrl_c_at_the_password_prompt_gives_the_terminal_its_echo_back(cli_stack):
    """On a terminal (a pseudo-terminal here) the prompt turns echo off; a Ctrl-C (SIGINT) there must not leave the
    operator's shell without echo: the settings come back and the command ends with the shell's 130."""
    master, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET_KEY")}
    try:
        process = subprocess.Popen([BIN, "users", "create-admin", email(), "--env-file", cli_stack.env_file],
                                   stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True)
        assert termios.tcgetattr(terminal)[3] & termios.ECHO
        shown, deadline = b"", time.monotonic() + 60
        while b"Password for" not in shown and time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                shown += os.read(master, 4096)
        assert b"Password for" in shown, shown
        wait_for(lambda: not termios.tcgetattr(terminal)[3] & termios.ECHO, timeout=30, message="echo turned off")
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 130
        assert termios.tcgetattr(terminal)[3] & termios.ECHO
    finally:
        os.close(master)
        os.close(terminal)


def test_each_action_takes_effect_and_records_its_event(cli_stack, http):
    user, tokens = new_user(http, cli_stack)
    address = user["email"]
    me = lambda t: http.get(cli_stack.url("/api/v1/auth/me"), headers=bearer(t)).status_code
    assert me(tokens) == 200

    promoted = users(cli_stack, "promote", address)
    assert promoted.returncode == 0 and "now an administrator" in promoted.stdout
    assert users(cli_stack, "promote", address).stdout.strip().endswith("(nothing changed)")
    assert row(cli_stack, "SELECT is_admin FROM users WHERE email = '{}'", address) == "t"
    assert users(cli_stack, "verify", address).returncode == 0
    assert row(cli_stack, "SELECT is_verified FROM users WHERE email = '{}'", address) == "t"

    revoked = users(cli_stack, "revoke-sessions", address)
    assert revoked.returncode == 0 and "1 session revoked" in revoked.stdout
    assert me(tokens) == 401

    tokens = login(http, cli_stack, address)
    assert me(tokens) == 200
    deactivated = users(cli_stack, "deactivate", address)
    assert deactivated.returncode == 0 and "deactivated, 1 session revoked" in deactivated.stdout
    assert me(tokens) == 401
    assert row(cli_stack, "SELECT count(*) FROM user_sessions s JOIN users u ON u.id = s.user_id "
                          "WHERE u.email = '{}' AND s.revoked_at IS NULL", address) == "0"
    refused = http.post(cli_stack.url("/api/v1/auth/login"), json={"email": address, "password": PASSWORD})
    assert refused.status_code != 200

    assert users(cli_stack, "activate", address).returncode == 0
    tokens = login(http, cli_stack, address)
    assert me(tokens) == 200

    listed = users(cli_stack, "list")
    assert listed.returncode == 0 and address in listed.stdout
    assert address in users(cli_stack, "list", "--admins").stdout
    shown = users(cli_stack, "show", address)
    assert shown.returncode == 0
    assert f"email:          {address}" in shown.stdout and "administrator:  yes" in shown.stdout
    assert "live sessions:  1" in shown.stdout and "admin_deactivated" in shown.stdout
    assert "$2" not in shown.stdout + listed.stdout  # never a hash

    assert users(cli_stack, "demote", address).returncode == 0
    assert address not in users(cli_stack, "list", "--admins").stdout
    assert events(cli_stack, address) == [
        "login_success:true", "admin_promoted:true", "admin_verified:true", "admin_sessions_revoked:true",
        "login_success:true", "admin_deactivated:true", "admin_activated:true", "login_success:true", "admin_demoted:true"]


def test_errors_are_one_line_with_a_non_zero_exit(cli_stack):
    unknown = users(cli_stack, "verify", "nobody-" + email())
    assert unknown.returncode == 1 and unknown.stderr.strip() == "user-service: users verify failed: no account has this email"
    assert users(cli_stack, "frobnicate", email()).returncode == 2
    assert users(cli_stack, "promote").returncode == 2
    assert users(cli_stack, "promote", email(), "--password", "x").returncode == 2


def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(make_stack):
    stack = make_stack(name="last-admin", start_nginx=False)
    first, second = email(), email()
    assert users(stack, "create-admin", first, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n").returncode == 0
    for action in ("demote", "deactivate"):
        refused = users(stack, action, first)
        assert refused.returncode == 1 and "last active administrator" in refused.stderr
    assert row(stack, "SELECT is_admin, is_active FROM users WHERE email = '{}'", first) == "t|t"

    assert users(stack, "create-admin", second, input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n").returncode == 0
    assert users(stack, "deactivate", second).returncode == 0  # an inactive administrator does not count
    refused = users(stack, "demote", first)
    assert refused.returncode == 1 and "last active administrator" in refused.stderr
    assert users(stack, "activate", second).returncode == 0
    assert users(stack, "demote", first).returncode == 0
    assert users(stack, "deactivate", second).returncode == 1
    assert row(stack, "SELECT count(*) FROM users WHERE is_admin AND is_active") == "1"


def table_digest(stack):
    return row(stack, "SELECT md5(string_agg(u::text, ',' ORDER BY email)) || md5(coalesce(string_agg(p::text, ','), '')) "
                      "|| (SELECT count(*) FROM security_events) FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id")


def test_export_import_round_trip_into_an_empty_database_keeps_passwords(cli_stack, make_stack, http):
    user, tokens = new_user(http, cli_stack, full_name="Round Trip")
    assert http.put(cli_stack.url("/api/v1/users/me/profile"), headers=bearer(tokens),
                    json={"headline": "Imported engineer", "skills": ["Swift", "SQL"], "visibility": "public"}).status_code == 200
    assert http.put(cli_stack.url("/api/v1/users/me/preferences"), headers=bearer(tokens),
                    json={"desired_titles": ["Engineer"], "remote_preference": "remote"}).status_code == 200
    # An account from the FastAPI service: its hash made by Python's bcrypt with the $2a$ prefix.
    legacy_password = "LegacyPass42"
    legacy_hash = bcrypt.hashpw(legacy_password.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode()
    legacy = email()
    row(cli_stack, "INSERT INTO users (email, username, hashed_password, is_verified) VALUES ('{}', '{}', '{}', true)",
        legacy, "legacy_" + uuid.uuid4().hex[:8], legacy_hash)

    folder = tempfile.mkdtemp(dir=cli_stack.dir)
    path = os.path.join(folder, "users.jsonl")
    exported = users(cli_stack, "export", "--output", path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == "" and "$2" not in exported.stderr
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = users(cli_stack, "export", "--output", path)  # never overwrites
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr
    to_stdout = users(cli_stack, "export")
    assert to_stdout.returncode == 0
    lines = [json.loads(line) for line in to_stdout.stdout.splitlines()]  # JSON lines and nothing else
    total = int(row(cli_stack, "SELECT count(*) FROM users"))
    assert len(lines) == total
    mine = next(line for line in lines if line["email"] == user["email"])
    assert mine["full_name"] == "Round Trip" and mine["profile"]["skills"] == ["Swift", "SQL"]
    assert mine["preferences"]["remote_preference"] == "remote" and mine["hashed_password"].startswith("$2b$")
    assert next(line for line in lines if line["email"] == legacy)["hashed_password"] == legacy_hash

    target = make_stack(name="import-target")
    assert row(target, "SELECT count(*) FROM users") == "0"
    imported = users(target, "import", path)
    assert imported.returncode == 0, imported.stderr
    assert f"{total} imported, 0 already present, 0 skipped" in imported.stderr
    assert "$2" not in imported.stdout + imported.stderr
    assert row(target, "SELECT count(*) FROM security_events WHERE type = 'account_imported' AND actor_id IS NULL") == str(total)

    # The users log in on the new instance with their old passwords, and find their data.
    moved = login(http, target, user["email"])
    profile = http.get(target.url("/api/v1/users/me/profile"), headers=bearer(moved)).json()
    assert profile["headline"] == "Imported engineer" and profile["skills"] == ["Swift", "SQL"]
    assert http.get(target.url("/api/v1/users/me/preferences"), headers=bearer(moved)).json()["desired_titles"] == ["Engineer"]
    assert http.get(target.url("/api/v1/users/me"), headers=bearer(moved)).json()["full_name"] == "Round Trip"
    login(http, target, legacy, legacy_password)
    wrong = http.post(target.url("/api/v1/auth/login"), json={"email": legacy, "password": "WrongPass42"})
    assert wrong.status_code == 401
    # Roles come only with --with-roles.
    assert row(target, "SELECT count(*) FROM users WHERE is_admin") == "0"

    before = table_digest(target)
    rerun = users(target, "import", path)
    assert rerun.returncode == 0 and f"0 imported, {total} already present, 0 skipped" in rerun.stderr
    assert table_digest(target) == before


def test_a_malformed_file_reports_each_bad_line_and_imports_the_good_ones(cli_stack, http):
    taken = register(http, cli_stack)
    good_hash = bcrypt.hashpw(b"GoodPass123", bcrypt.gensalt(4)).decode()

    def account(**fields):
        name = uuid.uuid4().hex[:10]
        base = {"email": f"imp_{name}@example.com", "username": f"imp_{name}", "hashed_password": good_hash}
        base.update(fields)
        return json.dumps(base)

    first, last = account(), account(is_admin=True)
    lines = [
        first,                                                   # 1 good
        '{"email": "broken@example.com", "username": ',          # 2 bad JSON
        account(email="not an email"),                           # 3 bad email
        account(username=taken["username"].upper()),             # 4 username of another account
        account(email=taken["email"]),                           # 5 email of another account
        account(hashed_password="plain-text-password"),          # 6 not a bcrypt hash
        account(profile={"years_of_experience": 500}),           # 7 refused by the database's bounds
        "",                                                      # 8 blank: ignored
        last,                                                    # 9 good
    ]
    path = os.path.join(tempfile.mkdtemp(dir=cli_stack.dir), "bad.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    result = users(cli_stack, "import", path)
    assert result.returncode == 3, result.stderr
    reported = [line for line in result.stderr.splitlines() if ": line " in line]
    assert sorted(int(line.split(": line ")[1].split(":")[0]) for line in reported) == [2, 3, 4, 5, 6, 7]
    assert "2 imported, 0 already present, 6 skipped" in result.stderr
    assert "plain-text-password" not in result.stderr and good_hash not in result.stderr
    for good in (first, last):
        address = json.loads(good)["email"]
        assert row(cli_stack, "SELECT is_admin FROM users WHERE email = '{}'", address) == "f"
        login(http, cli_stack, address, "GoodPass123")
    # The account whose username and email were claimed is untouched.
    assert login(http, cli_stack, taken["email"])["access_token"]


def test_with_roles_carries_administrators_and_premium_over(cli_stack, make_stack, http):
    good_hash = bcrypt.hashpw(b"GoodPass123", bcrypt.gensalt(4)).decode()

    def account(**fields):
        name = uuid.uuid4().hex[:10]
        return {"email": f"role_{name}@example.com", "username": f"role_{name}", "hashed_password": good_hash, **fields}

    admin = account(is_admin=True)
    subscriber = account(premium_plan="monthly", premium_expires_at="2999-01-01T00:00:00+00:00")
    legacy = account(is_premium=True)  # the FastAPI service's premium flag, no plan
    plain = account()
    path = os.path.join(tempfile.mkdtemp(dir=cli_stack.dir), "roles.jsonl")
    with open(path, "w") as f:
        f.write("".join(json.dumps(line) + "\n" for line in (admin, subscriber, legacy, plain)))
    target = make_stack(name="roles-target")
    result = users(target, "import", path, "--with-roles")
    assert result.returncode == 0, result.stderr
    assert "4 imported, 0 already present, 0 skipped" in result.stderr
    assert "1 account(s) had is_premium and no plan: imported as yearly premium, ending 1 year after the import" in result.stderr
    assert row(target, "SELECT email FROM users WHERE is_admin") == admin["email"]
    assert row(target, "SELECT premium_plan, premium_expires_at = '2999-01-01T00:00:00+00:00' FROM users WHERE email = '{}'",
               subscriber["email"]) == "monthly|t"
    assert row(target, "SELECT premium_plan, premium_expires_at > now() + interval '364 days' FROM users WHERE email = '{}'",
               legacy["email"]) == "yearly|t"

    # The roles act at once through the pool: the administrator administers, the premium accounts search.
    admin_tokens = login(http, target, admin["email"], "GoodPass123")
    assert http.get(target.url("/api/v1/admin/users"), headers=bearer(admin_tokens)).status_code == 200
    for premium in (subscriber, legacy):
        tokens = login(http, target, premium["email"], "GoodPass123")
        me = http.get(target.url("/api/v1/users/me"), headers=bearer(tokens)).json()
        assert me["is_premium"] is True
        assert http.get(target.url("/api/v1/users/search"), headers=bearer(tokens)).status_code == 200
    plain_tokens = login(http, target, plain["email"], "GoodPass123")
    assert http.get(target.url("/api/v1/admin/users"), headers=bearer(plain_tokens)).status_code == 403
    assert http.get(target.url("/api/v1/users/search"), headers=bearer(plain_tokens)).status_code == 403
