"""Pools on TCP (other hosts): only FASTCGI_ALLOWED_CLIENTS may connect, and nginx in front of several pools
(USER_SERVICE_BACKENDS) keeps answering when one of them dies."""
import os
import signal
import socket
import struct
import subprocess

from conftest import BIN, free_port, wait_for
from auth_helpers import bearer, login, new_user


def fastcgi_record(kind, content=b""):
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), 0) + content


def fastcgi_pair(name, value):
    def length(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return length(len(name)) + length(len(value)) + name + value


def fastcgi_get(port, path, source):
    """One FastCGI GET request to 127.0.0.1:port from the local address `source`: everything the pool sent back
    (b"" when it closed the connection without answering)."""
    params = b"".join(fastcgi_pair(k.encode(), v.encode()) for k, v in
                      {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": ""}.items())
    request = (fastcgi_record(1, struct.pack(">HB5x", 1, 0)) + fastcgi_record(4, params) + fastcgi_record(4)
               + fastcgi_record(5))
    with socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0)) as connection:
        received = b""
        try:
            connection.sendall(request)
            while chunk := connection.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
        return received


def test_a_pool_on_tcp_refuses_to_start_without_its_allowed_clients(make_stack, tmp_path):
    env_file = tmp_path / "pool.env"
    env_file.write_text("JWT_SECRET_KEY=" + "k" * 64 + "\nDATABASE_URL=postgresql://nobody@127.0.0.1:1/none\n")
    for extra, message in [("", "set FASTCGI_ALLOWED_CLIENTS"),
                           ("FASTCGI_ALLOWED_CLIENTS=10.0.0.1,10.0.0.0/8\n", "entry 2 is not an IPv4 address")]:
        env_file.write_text(env_file.read_text() + extra)
        result = subprocess.run([BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--env-file", str(env_file)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "10.0.0" not in result.stderr  # names the variable, never its value


def test_only_the_allowed_front_end_gets_an_answer(make_stack):
    port = free_port()
    pool = make_stack(name="tcp-pool", listen=f"127.0.0.1:{port}", start_nginx=False,
                      env={"FASTCGI_ALLOWED_CLIENTS": "127.0.0.1"})
    answer = fastcgi_get(port, "/health", source="127.0.0.1")
    assert b"Status: 200" in answer and b'"status":"healthy"' in answer
    wait_for(lambda: pool.pool_log().count("route=/health") == 1, message="the allowed request's line")
    # Another local address: the connection is closed before a byte is read, and nothing is served or logged.
    assert fastcgi_get(port, "/health", source="127.0.0.2") == b""
    assert fastcgi_get(port, "/health", source="127.0.0.1").count(b"Status: 200") == 1
    wait_for(lambda: pool.pool_log().count("route=/health") >= 2, message="the second allowed request's line")
    assert pool.pool_log().count("route=/health") == 2


def test_nginx_in_front_of_two_pool_hosts_survives_losing_one(make_stack, http):
    ports = [free_port(), free_port()]
    shared = {"FASTCGI_ALLOWED_CLIENTS": "127.0.0.1", "JWT_SECRET_KEY": "s" * 64}
    first = make_stack(name="host-a", listen=f"127.0.0.1:{ports[0]}", start_nginx=False, env=shared)
    backends = ",".join(f"127.0.0.1:{p}" for p in ports)
    front = make_stack(name="host-b", listen=f"127.0.0.1:{ports[1]}", database=first.database_url, env=shared,
                       nginx_env={"USER_SERVICE_BACKENDS": backends})
    with open(os.path.join(front.nginx_dir, "conf.d", "user-service.conf")) as f:
        conf = f.read()
    for port in ports:
        assert f"server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;" in conf

    user, tokens = new_user(http, front)
    me = front.url("/api/v1/auth/me")
    for _ in range(20):
        assert http.get(me, headers=bearer(tokens)).status_code == 200
    # Both hosts served some of them (round robin).
    assert "route=/api/v1/auth/me" in first.pool_log() and "route=/api/v1/auth/me" in front.pool_log()

    # Host A disappears: its master and workers killed at once. Reads, and a POST that no pool received (the
    # connection refused), go to host B: not one request fails.
    for pid in first.worker_pids() + [first.master_pid()]:
        os.kill(pid, signal.SIGKILL)
    first.pool.wait(timeout=30)
    wait_for(lambda: subprocess.run(["ss", "-Htln", f"sport = :{ports[0]}"], capture_output=True, text=True).stdout == "",
             message="host A's port closed")
    statuses = [http.get(me, headers=bearer(tokens)).status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert login(http, front, user["email"])["access_token"]


def test_a_reload_changes_who_may_connect(make_stack):
    port = free_port()
    pool = make_stack(name="tcp-reload", listen=f"127.0.0.1:{port}", start_nginx=False,
                      env={"FASTCGI_ALLOWED_CLIENTS": "127.0.0.1"})
    assert b"Status: 200" in fastcgi_get(port, "/health", source="127.0.0.1")
    old = set(pool.worker_pids())
    pool.write_env(pool.settings | {"FASTCGI_ALLOWED_CLIENTS": "127.0.0.2"})
    pool.signal_pool(signal.SIGHUP)
    # Workers are replaced one at a time; once the last old one has gone, only the new list gets in.
    wait_for(lambda: not old & set(pool.worker_pids()), timeout=60, message="every worker replaced")
    assert all(fastcgi_get(port, "/health", source="127.0.0.1") == b"" for _ in range(5))
    assert all(b"Status: 200" in fastcgi_get(port, "/health", source="127.0.0.2") for _ in range(5))


def test_an_ipv6_or_dual_stack_socket_is_refused(tmp_path):
    """libfcgi filters IPv4 peers only: a socket that IPv6 peers can reach would let them all through."""
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.bind(("::1", 0))
    listener.listen(4)
    env_file = tmp_path / "env"
    env_file.write_text("DATABASE_URL=postgresql://nobody@127.0.0.1:1/none\nJWT_SECRET_KEY=" + "x" * 40 +
                        "\nFASTCGI_ALLOWED_CLIENTS=127.0.0.1\n")
    result = subprocess.run([BIN, "serve", "--env-file", str(env_file)], stdin=listener.fileno(),
                            capture_output=True, text=True, timeout=60)
    listener.close()
    assert result.returncode == 1
    assert "neither a unix socket nor IPv4 TCP" in result.stderr and len(result.stderr.strip().splitlines()) == 1
