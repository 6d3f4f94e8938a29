"""Deployment: systemd units, hardening that is exercised, the install layout and the Debian package."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest
import requests

from auth_helpers import bearer, login, new_user
from conftest import AS_ROOT, BASE_URL, BIN, ROOT, RUN_DIR, Stack, create_database, migrate, private_folder, psql, wait_for
from mail_helpers import (link_in, make_mail_server, make_mailer, mail_database, mail_server, queue_mail,  # noqa: F401
                          tls_certificate)
from test_runtime import hammer

DOCS_ASSETS = ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "redoc.standalone.js"]
# The service's licence and each vendored asset's, beside the service's documentation.
LICENCES = ["LICENSE", "LICENSE.swagger-ui", "NOTICE.swagger-ui", "LICENSE.redoc", "LICENSE.fastapi-offline"]
UNITS = ["user-service.service", "user-service.socket", "user-service-migrate.service", "user-service-cleanup.service",
         "user-service-cleanup.timer", "user-service-mailer.service"]
MAIL_TEMPLATES = sorted(n for n in os.listdir(os.path.join(ROOT, "mail", "templates")))


@pytest.fixture(scope="module")
def tree():
    """`make install DESTDIR=... PREFIX=/usr`, over a copy of the host's system units (what a Debian host has)."""
    destdir = os.path.join(RUN_DIR, f"destdir-{uuid.uuid4().hex[:6]}")
    env = dict(os.environ, DESTDIR=destdir, PREFIX="/usr", BINARY=BIN)
    subprocess.run([os.path.join(ROOT, "scripts", "install"), "install"], env=env, check=True, capture_output=True)
    return destdir


def test_install_layout(tree):
    for path in ["usr/bin/user-service", "usr/share/user-service/migrations/0001_users.sql",
                 "usr/share/user-service/user-service.env.example", "usr/share/doc/user-service/deploy.md",
                 "usr/lib/sysusers.d/user-service.conf", "usr/lib/tmpfiles.d/user-service.conf",
                 "etc/nginx/conf.d/user-service.conf", "etc/nginx/snippets/user-service.conf",
                 "etc/nginx/snippets/user-service-headers.conf", "etc/nginx/snippets/user-service-errors.conf",
                 "etc/nginx/sites-available/user-service", "usr/share/user-service/monitoring/alerts.yml",
                 "usr/share/user-service/monitoring/grafana-dashboard.json"] + [f"lib/systemd/system/{u}" for u in UNITS]:
        assert os.path.exists(os.path.join(tree, path)), path
    # The docs pages' assets where the unit's DOCS_DIR points, byte for byte; the licences beside the documentation.
    for name in DOCS_ASSETS:
        assert open(os.path.join(tree, "usr/share/user-service/docs", name), "rb").read() == \
            open(os.path.join(ROOT, "docs/ui", name), "rb").read(), name
    for name in LICENCES:
        source = os.path.join(ROOT, name if name == "LICENSE" else f"docs/ui/{name}")
        assert open(os.path.join(tree, "usr/share/doc/user-service", name)).read() == open(source).read(), name
    # The mail templates where the mailer's unit points MAIL_TEMPLATES_DIR, byte for byte.
    assert sorted(os.listdir(os.path.join(tree, "usr/share/user-service/mail/templates"))) == MAIL_TEMPLATES
    for name in MAIL_TEMPLATES:
        assert open(os.path.join(tree, "usr/share/user-service/mail/templates", name), "rb").read() == \
            open(os.path.join(ROOT, "mail/templates", name), "rb").read(), name
    mailer_unit = open(os.path.join(tree, "lib/systemd/system/user-service-mailer.service")).read()
    assert "Environment=MAIL_TEMPLATES_DIR=/usr/share/user-service/mail/templates" in mailer_unit
    assert "ExecStart=/usr/bin/user-service mailer --env-file /etc/user-service/user-service.env" in mailer_unit
    assert "MIT License" in open(os.path.join(tree, "usr/share/doc/user-service/LICENSE")).read()
    assert "Environment=DOCS_DIR=/usr/share/user-service/docs" in \
        open(os.path.join(tree, "lib/systemd/system/user-service.service")).read()
    # The route maps are the package's own file, which an upgrade replaces; the edited-by-operators conf.d file only
    # includes them.
    maps = open(os.path.join(tree, "usr/share/user-service/nginx-route-maps.conf")).read()
    assert "$user_service_workers" in maps and '"POST /api/v1/auth/login" password;' in maps
    http_level = open(os.path.join(tree, "etc/nginx/conf.d/user-service.conf")).read()
    assert "include /usr/share/user-service/nginx-route-maps.conf;" in http_level and "$user_service_workers {" not in http_level
    # The real env file is made only on the target host, never in a staged tree.
    assert not os.path.exists(os.path.join(tree, "etc/user-service/user-service.env"))
    assert "ExecStart=/usr/bin/user-service serve --env-file /etc/user-service/user-service.env" in \
        open(os.path.join(tree, "lib/systemd/system/user-service.service")).read()


def test_uninstall_removes_what_install_put(tmp_path):
    destdir = os.path.join(RUN_DIR, f"uninstall-{uuid.uuid4().hex[:6]}")
    env = dict(os.environ, DESTDIR=destdir, PREFIX="/usr/local", BINARY=BIN)
    script = os.path.join(ROOT, "scripts", "install")
    subprocess.run([script, "install"], env=env, check=True, capture_output=True)
    assert "ExecStart=/usr/local/bin/user-service" in open(f"{destdir}/usr/local/lib/systemd/system/user-service.service").read()
    env_file = os.path.join(destdir, "etc/user-service/user-service.env")
    open(env_file, "w").write("JWT_SECRET_KEY=keep-me\n")
    subprocess.run([script, "uninstall"], env=env, check=True, capture_output=True)
    left = [os.path.relpath(os.path.join(d, f), destdir) for d, _, files in os.walk(destdir) for f in files]
    assert left == ["etc/user-service/user-service.env"]


def test_units_verify_without_warnings(tree):
    shutil.copytree("/lib/systemd/system", os.path.join(tree, "lib/systemd/system"), dirs_exist_ok=True, symlinks=True,
                    ignore=lambda d, names: [n for n in names if n.startswith("user-service")])
    os.makedirs(os.path.join(tree, "bin"), exist_ok=True)
    shutil.copy("/bin/kill", os.path.join(tree, "bin/kill"))
    for unit in UNITS:
        result = subprocess.run(["systemd-analyze", "verify", f"--root={tree}", f"/lib/systemd/system/{unit}"],
                                capture_output=True, text=True)
        assert result.returncode == 0 and result.stdout.strip() == "" and result.stderr.strip() == "", (unit, result)


@pytest.mark.parametrize("unit", ["user-service.service", "user-service-mailer.service"])
def test_service_security_score(tree, unit):
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={tree}", unit],
                            capture_output=True, text=True)
    score = float(re.search(rf"Overall exposure level for {unit}: ([0-9.]+)", result.stdout).group(1))
    assert score <= 2.0, result.stdout[-2000:]


def hardening(unit):
    """A unit's sandboxing directives: every line from `CapabilityBoundingSet=` to the end of [Service]."""
    text = open(os.path.join(ROOT, "systemd", unit)).read()
    service = text[text.index("[Service]"):].split("\n[Install]")[0]
    return [line for line in service[service.index("CapabilityBoundingSet="):].splitlines() if line and not line.startswith("#")]


def test_the_mailer_is_sandboxed_exactly_like_the_pool():
    assert hardening("user-service-mailer.service") == hardening("user-service.service")


def test_socket_activation_notify_and_reload_under_load(tmp_path):
    """The pool started the systemd way: socket on fd 3 with LISTEN_FDS, READY=1 on NOTIFY_SOCKET."""
    run_dir = private_folder(os.path.join(RUN_DIR, f"activate-{uuid.uuid4().hex[:6]}"))
    socket_path = os.path.join(run_dir, "activated.sock")
    password_socket_path = os.path.join(run_dir, "activated-password.sock")
    notify_path = os.path.join(run_dir, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(15)
    s = Stack("activated", workers=2, start_nginx=False)
    s.stop_pool()
    s.nginx_env["USER_SERVICE_SOCKET"] = socket_path
    s.nginx_env["USER_SERVICE_PASSWORD_SOCKET"] = password_socket_path
    log = open(os.path.join(run_dir, "pool.log"), "wb")
    # Two sockets, as user-service.socket passes them: the main one, then the password workers' one.
    # systemd-socket-activate passes only the variables named with -E: the harness's password file is one.
    pool = subprocess.Popen(["systemd-socket-activate", "-l", socket_path, "-l", password_socket_path,
                             "-E", f"NOTIFY_SOCKET={notify_path}", "-E", f"PGPASSFILE={os.environ.get('PGPASSFILE', '')}",
                             BIN, "serve", "--env-file", s.env_file],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: os.path.exists(socket_path) and os.path.exists(password_socket_path), message="the sockets")
        for path in (socket_path, password_socket_path):
            # systemd-socket-activate makes them 0644 (group root, from the folder's setgid: www-data); the .socket
            # unit sets the real mode: SocketGroup=www-data, SocketMode=0660.
            os.chmod(path, 0o660 if AS_ROOT else 0o600)
        s.start_nginx()
        assert requests.get(s.url("/health"), timeout=15).status_code == 200  # the first connection starts the pool
        assert notify.recv(100) == b"READY=1"
        user, tokens = new_user(requests, s)  # login and register through the password socket
        assert requests.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).status_code == 200
        assert "starting 2 workers and 2 password workers" in open(os.path.join(run_dir, "pool.log")).read()
        stop, results = threading.Event(), []
        threads = [threading.Thread(target=hammer, args=(s.url("/health"), stop, results)) for _ in range(4)]
        for t in threads:
            t.start()
        wait_for(lambda: len(results) >= 10, message="requests before the reload")
        pool.send_signal(signal.SIGHUP)
        assert notify.recv(100) == b"RELOADING=1"
        assert notify.recv(100) == b"READY=1"
        answered = len(results)
        wait_for(lambda: len(results) >= answered + 11, message="requests after the reload")
        stop.set()
        for t in threads:
            t.join()
        assert len(results) > 20 and set(results) == {200}, [r for r in results if r != 200][:5]
        pool.send_signal(signal.SIGTERM)
        assert notify.recv(100) == b"STOPPING=1"
        assert pool.wait(timeout=15) == 0
    finally:
        if pool.poll() is None:
            pool.kill()
        notify.close()
        s.stop()


def test_installed_binary_migrates_and_serves_from_the_tree(tree, http):
    binary = os.path.join(tree, "usr/bin/user-service")
    s = Stack("installed", workers=1, binary=binary, migrations=os.path.join(tree, "usr/share/user-service/migrations"),
              env={"DOCS_DIR": os.path.join(tree, "usr/share/user-service/docs")})
    try:
        user, tokens = new_user(http, s)
        assert http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).json()["id"] == user["id"]
        assert http.get(s.url("/db/status")).json()["pending_migrations"] == []
        page = http.get(s.url("/docs"))
        assert page.status_code == 200
        for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
            assert http.get(s.url(asset)).status_code == 200, asset
    finally:
        s.stop()


def test_the_installed_mailer_sends_with_the_installed_templates(tree, mail_database, mail_server, make_mailer):
    make_mailer(mail_database, mail_server, binary=os.path.join(tree, "usr/bin/user-service"),
                env={"MAIL_TEMPLATES_DIR": os.path.join(tree, "usr/share/user-service/mail/templates")})
    queue_mail(mail_database, "email_verification", "installed@example.com", token="t-installed", expires_in_seconds=600)
    message = mail_server.wait_for_mail("installed@example.com")
    assert link_in(message) == "https://app.example.com/verify-email?token=t-installed"


def test_http_level_file_loads_before_any_site_mounts_the_service(tree, tmp_path):
    # The installed file includes the package's route maps by their installed path: here, the staged tree's.
    http_level = tmp_path / "user-service.conf"
    http_level.write_text(open(os.path.join(tree, "etc/nginx/conf.d/user-service.conf")).read()
                          .replace("include /usr/share/user-service/", f"include {tree}/usr/share/user-service/"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
        pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;
        events {{}}
        http {{
            include {http_level};
            server {{ listen 127.0.0.1:1; location / {{ return 200; }} }}
        }}""")
    result = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- the Debian package ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb():
    path = os.environ.get("USER_SERVICE_DEB") or pytest.fail("USER_SERVICE_DEB is not set: run the tests with `make test`")
    assert os.path.exists(path)
    return path


@pytest.fixture(scope="module")
def extracted(deb):
    root = os.path.join(RUN_DIR, f"deb-{uuid.uuid4().hex[:6]}")
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    return root


def test_package_metadata_and_layout(deb):
    info = subprocess.run(["dpkg-deb", "-I", deb], capture_output=True, text=True, check=True).stdout
    depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
    for library in ("libpq5", "libfcgi0ldbl", "libssl3", "libcrypt1", "libcurl4", "libc6"):
        assert library in depends, depends
    assert "swift" not in depends.lower()
    contents = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[-1].lstrip(".") for line in contents.splitlines()}
    for path in ["/usr/bin/user-service", "/lib/systemd/system/user-service.service",
                 "/lib/systemd/system/user-service.socket", "/lib/systemd/system/user-service-mailer.service",
                 "/usr/share/user-service/migrations/0001_users.sql",
                 "/etc/nginx/conf.d/user-service.conf", "/etc/nginx/snippets/user-service.conf",
                 "/usr/lib/sysusers.d/user-service.conf", "/usr/share/user-service/user-service.env.example",
                 "/usr/share/doc/user-service/copyright"] + \
            [f"/usr/share/user-service/docs/{name}" for name in DOCS_ASSETS] + \
            [f"/usr/share/user-service/mail/templates/{name}" for name in MAIL_TEMPLATES] + \
            [f"/usr/share/doc/user-service/{name}" for name in LICENCES]:
        assert path in paths, path
    assert "/etc/user-service/user-service.env" not in paths
    control = subprocess.run(["dpkg-deb", "-e", deb, os.path.join(RUN_DIR, "control-" + uuid.uuid4().hex[:6])],
                             capture_output=True, text=True)
    assert control.returncode == 0


def test_package_licences_name_every_component(extracted):
    doc = os.path.join(extracted, "usr/share/doc/user-service")
    copyright = open(os.path.join(doc, "copyright")).read()
    assert "License: MIT" in copyright and "License: Apache-2.0" in copyright
    for name in DOCS_ASSETS[:2] + DOCS_ASSETS[3:]:
        assert f"usr/share/user-service/docs/{name}" in copyright, name
    assert "Apache License" in open(os.path.join(doc, "LICENSE.swagger-ui")).read()
    assert "MIT License" in open(os.path.join(doc, "LICENSE.redoc")).read()
    assert "MIT License" in open(os.path.join(doc, "LICENSE")).read()


def test_package_holds_no_secret(extracted):
    for directory, _, files in os.walk(extracted):
        for name in files:
            path = os.path.join(directory, name)
            if name == "user-service":
                continue
            text = open(path, errors="replace").read()
            assert not re.search(r"JWT_SECRET_KEY=[0-9A-Za-z+/=_-]{16,}", text), path
            assert not re.search(r"\b[0-9a-f]{64}\b", text), path


def test_package_binary_links_only_debian_libraries_and_serves(extracted, http):
    binary = os.path.join(extracted, "usr/bin/user-service")
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        match = re.search(r"=> (\S+)", line) or re.search(r"^\s*(/\S+)", line)
        if match:
            assert match.group(1).startswith(("/lib/", "/lib64/", "/usr/lib/")), line
        assert "not found" not in line and "swift" not in line.lower(), line
    s = Stack("packaged", workers=1, binary=binary, migrations=os.path.join(extracted, "usr/share/user-service/migrations"),
              env={"DOCS_DIR": os.path.join(extracted, "usr/share/user-service/docs")})
    try:
        user, tokens = new_user(http, s)
        assert http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens)).json()["email"] == user["email"]
        page = http.get(s.url("/redoc"))
        assert page.status_code == 200
        script = re.search(r'src="(/docs/assets/[^"]+/redoc.standalone.js)"', page.text).group(1)
        assert http.get(s.url(script)).headers["Content-Type"] == "application/javascript; charset=utf-8"
    finally:
        s.stop()


# --- hardening, exercised ----------------------------------------------------------------------------------------

def syscall_groups():
    """Every group `systemd-analyze syscall-filter` knows, with its members (groups not yet expanded)."""
    groups, current = {}, None
    for line in subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" ") and stripped.startswith("@"):
            current = groups.setdefault(stripped, [])
        elif current is not None:
            current.append(stripped)
    return groups


def expand(name, groups):
    result = set()
    for member in groups.get(name, []):
        result |= expand(member, groups) if member.startswith("@") else {member}
    return result


def test_pool_syscalls_stay_inside_the_units_filter_and_no_memory_is_writable_and_executable(http):
    unit = open(os.path.join(ROOT, "systemd", "user-service.service")).read()
    assert "SystemCallFilter=@system-service" in unit and "SystemCallFilter=~@privileged @resources" in unit
    assert "MemoryDenyWriteExecute=yes" in unit
    groups = syscall_groups()
    allowed = expand("@system-service", groups) - expand("@privileged", groups) - expand("@resources", groups)

    trace = os.path.join(RUN_DIR, f"strace-{uuid.uuid4().hex[:6]}.log")
    s = Stack("strace", workers=2, wrapper=["strace", "-f", "-qq", "-o", trace])
    try:
        for pid in [s.master_pid()] + s.worker_pids():
            for mapping in open(f"/proc/{pid}/maps"):
                perms = mapping.split()[1]
                assert not ("w" in perms and "x" in perms), mapping
        user, tokens = new_user(http, s)
        http.get(s.url("/api/v1/auth/me"), headers=bearer(tokens))
        http.post(s.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
        http.get(s.url("/metrics"))
        http.get(s.url("/db/status"))
        log_length = len(s.pool_log())
        s.signal_pool(signal.SIGHUP)
        wait_for(lambda: "reload complete" in s.pool_log()[log_length:], message="reload")
        before = s.worker_pids()
        os.kill(before[0], signal.SIGKILL)
        wait_for(lambda: "restarting in" in s.pool_log(), message="restart")
        wait_for(lambda: len(s.worker_pids()) == 2 and s.worker_pids() != before, message="the replacement worker")
        login(http, s, user["email"])
    finally:
        s.stop()
    used = set()
    for line in open(trace):
        match = re.match(r"^\d+\s+([a-z0-9_]+)\(", line)
        if match:
            used.add(match.group(1))
    assert {"accept", "poll", "signalfd4", "memfd_create"} <= used  # the trace saw the pool at work
    outside = sorted(used - allowed - {"execve"})  # execve of the binary itself happens before the filter applies
    assert outside == [], outside


def test_mailer_syscalls_stay_inside_the_units_filter(mail_database, make_mail_server, make_mailer, tls_certificate):
    """The mailer's unit has the pool's filter: its own calls (libpq, LISTEN, libcurl, OpenSSL's STARTTLS, the
    signalfd, a drain on SIGTERM) stay inside it, and no memory is writable and executable."""
    unit = open(os.path.join(ROOT, "systemd", "user-service-mailer.service")).read()
    assert "SystemCallFilter=@system-service" in unit and "SystemCallFilter=~@privileged @resources" in unit
    # A stop outlasts the longest SMTP exchange (SMTP_TIMEOUT_SECONDS at most 600) and its mark.
    assert int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M).group(1)) > 600
    groups = syscall_groups()
    allowed = expand("@system-service", groups) - expand("@privileged", groups) - expand("@resources", groups)
    trace = os.path.join(RUN_DIR, f"strace-mailer-{uuid.uuid4().hex[:6]}.log")
    server = make_mail_server(security="starttls", certificate=tls_certificate)
    mailer = make_mailer(mail_database, server, env={"SMTP_SECURITY": "starttls", "SMTP_CA_FILE": tls_certificate[0]},
                         wrapper=["strace", "-f", "-qq", "-o", trace])
    queue_mail(mail_database, "password_changed", "traced@example.com")
    server.wait_for_mail("traced@example.com")
    pid = int(subprocess.run(["pgrep", "-P", str(mailer.process.pid)], capture_output=True, text=True).stdout.split()[0])
    for mapping in open(f"/proc/{pid}/maps"):
        perms = mapping.split()[1]
        assert not ("w" in perms and "x" in perms), mapping
    os.kill(pid, signal.SIGTERM)  # the mailer itself, not strace
    assert mailer.process.wait(timeout=30) == 0 and "mailer: stopped" in mailer.log()
    used = {m.group(1) for m in (re.match(r"^\d+\s+([a-z0-9_]+)\(", line) for line in open(trace)) if m}
    assert {"poll", "signalfd4", "connect", "sendto"} <= used, used
    outside = sorted(used - allowed - {"execve"})
    assert outside == [], outside


def test_the_real_env_file_is_made_once_with_its_own_secret(tmp_path):
    """What `make install` (no DESTDIR) and the package's postinst run on the target host."""
    script = os.path.join(ROOT, "scripts", "create-env-file")
    path = tmp_path / "etc" / "user-service.env"
    env = dict(os.environ, USER_SERVICE_GROUP="nogroup")  # an existing group: the test host gets no new user
    subprocess.run([script, str(path), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    stat = os.stat(path)
    assert oct(stat.st_mode & 0o777) == "0o640"
    assert stat.st_uid == 0 and stat.st_gid == int(subprocess.run(["getent", "group", "nogroup"], capture_output=True,
                                                                  text=True).stdout.split(":")[2])
    text = path.read_text()
    secret = re.search(r"^JWT_SECRET_KEY=([0-9a-f]{64})$", text, re.M).group(1)
    assert "MIGRATIONS_DIR=/usr/share/user-service/migrations" in text
    # Absolute like the unit's own, so the file (which wins over Environment=) never points the mailer at a relative path.
    assert "MAIL_TEMPLATES_DIR=/usr/share/user-service/mail/templates" in text
    # Never overwritten: a second run keeps the secret (and anything the sysadmin changed).
    path.write_text(text + "DATABASE_URL=postgresql://edited\n")
    subprocess.run([script, str(path), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    assert secret in path.read_text() and "postgresql://edited" in path.read_text()
    # Another host gets another secret.
    other = tmp_path / "other.env"
    subprocess.run([script, str(other), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    assert secret not in other.read_text()


def test_the_migrations_env_file_is_root_only_made_once_and_apart_from_the_pools(tmp_path):
    """migrate.env (MIGRATION_DATABASE_URL, the schema owner's credentials): root:root 0600 beside the pool's env
    file, which never holds that variable; made once, never overwritten."""
    script = os.path.join(ROOT, "scripts", "create-env-file")
    path = tmp_path / "etc" / "user-service.env"
    migrate_env = tmp_path / "etc" / "migrate.env"
    env = dict(os.environ, USER_SERVICE_GROUP="nogroup")
    subprocess.run([script, str(path), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    info = os.stat(migrate_env)
    assert oct(info.st_mode & 0o777) == "0o600" and (info.st_uid, info.st_gid) == (0, 0)
    assert not re.search(r"^MIGRATION_DATABASE_URL=", path.read_text(), re.M)
    assert not re.search(r"^MIGRATION_DATABASE_URL=", migrate_env.read_text(), re.M)  # a commented example only
    migrate_env.write_text("MIGRATION_DATABASE_URL=postgresql://owner:edited@localhost/user_service\n")
    path.unlink()  # also made when only the pool's file is missing, and the other way round
    subprocess.run([script, str(path), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    assert "owner:edited" in migrate_env.read_text() and path.exists()
    migrate_env.unlink()
    subprocess.run([script, str(path), "/usr/share/user-service"], env=env, check=True, capture_output=True)
    assert migrate_env.exists() and oct(os.stat(migrate_env).st_mode & 0o777) == "0o600"
    assert [p.name for p in (tmp_path / "etc").iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_migrate_unit_gets_the_owner_url_from_its_own_environment_file(tree):
    """Runs user-service-migrate.service's ExecStart as systemd would: the variables of its EnvironmentFile= in the
    environment (systemd reads that file as root), --env-file the pool's file. The schema owner migrates; without
    migrate.env (the pool's view) the same command cannot change the schema."""
    units = {u: open(os.path.join(tree, "lib/systemd/system", u)).read() for u in UNITS}
    migrate_unit = units["user-service-migrate.service"]
    assert re.findall(r"^EnvironmentFile=(.*)$", migrate_unit, re.M) == ["/etc/user-service/migrate.env"]
    for name, text in units.items():
        assert "--env-file /etc/user-service/migrate.env" not in text, name
        if name != "user-service-migrate.service":
            assert "migrate.env" not in text, name
    exec_start = re.search(r"^ExecStart=(.*)$", migrate_unit, re.M).group(1).split()
    assert exec_start[1:] == ["migrate", "--env-file", "/etc/user-service/user-service.env"]

    # Two roles as docs/deploy.md creates them, on a fresh database.
    suffix, password = uuid.uuid4().hex[:8], uuid.uuid4().hex
    owner, app = f"owner_{suffix}", f"app_{suffix}"
    psql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'; CREATE ROLE {app} LOGIN PASSWORD '{password}'", stdin=True)
    url = create_database()
    psql(f"ALTER DATABASE {url.rsplit('/', 1)[1]} OWNER TO {owner}")
    psql(f"""ALTER SCHEMA public OWNER TO {owner}; REVOKE ALL ON SCHEMA public FROM PUBLIC;
             GRANT USAGE ON SCHEMA public TO {app};""", url=url)
    etc = os.path.join(tree, "etc/user-service")
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, "user-service.env"), "w") as f:
        f.write(f"DATABASE_URL={url.replace('postgres@', f'{app}:{password}@')}\n")
    with open(os.path.join(etc, "migrate.env"), "w") as f:
        f.write(f"# the owner\nMIGRATION_DATABASE_URL={url.replace('postgres@', f'{owner}:{password}@')}\n")

    def run_unit(with_environment_file):
        env = {"PATH": os.environ["PATH"], "PGPASSFILE": "/dev/null"}
        env.update(re.findall(r"^(\w+)=(.*)$", re.search(r"^Environment=(.*)$", migrate_unit, re.M).group(1), re.M))
        env["MIGRATIONS_DIR"] = tree + env["MIGRATIONS_DIR"]
        if with_environment_file:
            env.update(re.findall(r"^(\w+)=(.*)$", open(os.path.join(etc, "migrate.env")).read(), re.M))
        command = [tree + exec_start[0], *exec_start[1:-1], tree + exec_start[-1]]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    as_pool = run_unit(with_environment_file=False)
    assert as_pool.returncode != 0 and "SQLSTATE 42501" in as_pool.stderr  # insufficient privilege
    result = run_unit(with_environment_file=True)
    assert result.returncode == 0, result.stderr
    assert psql("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'", url=url) == owner
    assert password not in result.stderr


def test_package_purge_removes_both_env_files(deb):
    control = os.path.join(RUN_DIR, "control-" + uuid.uuid4().hex[:6])
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    postinst = open(os.path.join(control, "postinst")).read()
    assert "/usr/share/user-service/create-env-file /etc/user-service/user-service.env" in postinst
    postrm = open(os.path.join(control, "postrm")).read()
    assert "/etc/user-service/migrate.env" in postrm and "/etc/user-service/user-service.env" in postrm


@pytest.mark.parametrize("line", ["MIGRATION_DATABASE_URL=postgresql://owner:s3cret-owner@localhost/user_service",
                                  "MIGRATION_DATABASE_URL=", "  MIGRATION_DATABASE_URL = ''"])
def test_serve_and_migrate_refuse_an_env_file_that_sets_the_migration_url(tmp_path, line):
    """An upgraded host (the old guide) or an old env.example copied with an empty `MIGRATION_DATABASE_URL=`: in
    the pool's file the owner's password is readable by the pool's group, and an empty value would silently
    override migrate.env (the env file is laid over the process environment). Both commands refuse, in one line,
    before doing anything."""
    folder = private_folder(os.path.join(RUN_DIR, f"migration-url-{uuid.uuid4().hex[:6]}"))
    env_file = os.path.join(folder, "user-service.env")
    with open(env_file, "w") as f:
        f.write(f"DATABASE_URL={BASE_URL}\nJWT_SECRET_KEY={'a' * 64}\nMIGRATIONS_DIR={ROOT}/Migrations\n{line}\n")
    socket_path = os.path.join(folder, "pool.sock")
    # migrate.env's value in the process environment, as systemd passes it: the file still wins nothing.
    env = dict(os.environ, MIGRATION_DATABASE_URL=BASE_URL)
    for command in (["serve", "--listen", f"unix:{socket_path}"], ["migrate"], ["migrate", "--status"]):
        result = subprocess.run([BIN, *command, "--env-file", env_file], env=env, capture_output=True, text=True,
                                timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode != 0, (command, result)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{env_file} sets MIGRATION_DATABASE_URL" in lines[0], (command, result.stderr)
        assert "s3cret" not in result.stderr and result.stdout == "", command
    assert not os.path.exists(socket_path)  # serve stopped before binding anything


def test_migrate_takes_the_migration_url_from_its_environment_only(tmp_path):
    """Without the variable in --env-file, migrate uses the process environment's MIGRATION_DATABASE_URL (what
    systemd's EnvironmentFile=migrate.env provides): a wrong one there fails, proving it is the one used."""
    folder = private_folder(os.path.join(RUN_DIR, f"migration-env-{uuid.uuid4().hex[:6]}"))
    env_file = os.path.join(folder, "user-service.env")
    url = create_database()
    with open(env_file, "w") as f:
        f.write(f"DATABASE_URL={url}\nMIGRATIONS_DIR={ROOT}/Migrations\n")
    wrong = url.rsplit("/", 1)[0] + "/no_such_database_" + uuid.uuid4().hex[:6]
    env = {k: v for k, v in os.environ.items() if k != "MIGRATION_DATABASE_URL"}
    failed = subprocess.run([BIN, "migrate", "--env-file", env_file], env=dict(env, MIGRATION_DATABASE_URL=wrong),
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode != 0 and "no_such_database_" in failed.stderr, failed.stderr
    result = subprocess.run([BIN, "migrate", "--env-file", env_file], env=dict(env, MIGRATION_DATABASE_URL=url),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_an_existing_env_file_with_the_migration_url_gets_a_warning_on_upgrade(tmp_path, deb):
    """The package's postinst (create-env-file, also run by `make install`) warns about a pool env file that an
    older guide left MIGRATION_DATABASE_URL in, and changes nothing."""
    control = os.path.join(RUN_DIR, "control-" + uuid.uuid4().hex[:6])
    subprocess.run(["dpkg-deb", "-e", deb, control], check=True)
    assert "/usr/share/user-service/create-env-file /etc/user-service/user-service.env" in \
        open(os.path.join(control, "postinst")).read()
    script = os.path.join(ROOT, "scripts", "create-env-file")
    path = tmp_path / "etc" / "user-service.env"
    path.parent.mkdir()
    (tmp_path / "etc" / "migrate.env").write_text("")
    env = dict(os.environ, USER_SERVICE_GROUP="nogroup")
    for text in ("DATABASE_URL=postgresql://app@localhost/x\nMIGRATION_DATABASE_URL=\n",
                 "MIGRATION_DATABASE_URL=postgresql://owner:pw@localhost/x\n"):
        path.write_text(text)
        result = subprocess.run([script, str(path), "/usr/share/user-service"], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert f"WARNING: {path} sets MIGRATION_DATABASE_URL" in result.stderr and "pw@" not in result.stderr
        assert path.read_text() == text
    path.write_text("DATABASE_URL=postgresql://app@localhost/x\n# MIGRATION_DATABASE_URL=commented\n")
    result = subprocess.run([script, str(path), "/usr/share/user-service"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr


def test_socket_unit_lets_nginx_workers_and_nobody_else_connect(tree):
    """user-service.socket (as installed) hands its sockets to the group nginx's workers run as, and to no other
    user: SocketMode 0660 with SocketGroup that group, for the user named in the system's nginx.conf."""
    for text in (open(os.path.join(ROOT, "systemd", "user-service.socket")).read(),
                 open(os.path.join(tree, "lib/systemd/system/user-service.socket")).read()):
        settings = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
        assert settings["SocketMode"] == "0660" and settings["SocketUser"] == "root"
        nginx_conf = open("/etc/nginx/nginx.conf").read()
        nginx_user = re.search(r"^\s*user\s+([^\s;]+)", nginx_conf, re.M).group(1)
        groups = subprocess.run(["id", "-Gn", nginx_user], capture_output=True, text=True, check=True).stdout.split()
        assert settings["SocketGroup"] in groups, (settings["SocketGroup"], nginx_user, groups)
        assert settings["SocketGroup"] == "www-data"  # what make run, the harness and the docs give nginx
        listen = re.findall(r"^ListenStream=(.*)$", text, re.M)
        assert listen == ["/run/user-service/user-service.sock", "/run/user-service/user-service-password.sock"]
        # nginx's workers must also pass through the socket's folder.
        assert int(settings["DirectoryMode"], 8) & 0o001
