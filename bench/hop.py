"""The hop, for scripts/bench: the bare C libfcgi responder (bench/ceiling.c) behind the same nginx settings, CPU time
per request of each component from /proc, system calls per request from `strace -c`, and the run drawn by gnuplot.

Everything degrades gracefully: without strace (or without the right to trace) the system calls are reported as
missing, without gnuplot no chart is drawn; the run goes on.
"""
import os
import re
import shutil
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def tree(pid):
    """The process and its children (the pool's master and workers, nginx's master and workers, the postmaster and
    its backends)."""
    return [pid] + children(pid)


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass  # ended meanwhile
    return total


def machine_busy_ticks():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values) - values[3] - values[4]  # all but idle and iowait


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def measured(run, groups):
    """Runs `run()` (a wrk run answering a result dict with "requests") and adds the CPU microseconds per request
    of each group of processes (`groups`: name -> function answering pids, read again after the run so processes
    that started meanwhile count), of the whole machine (every process: wrk and other work included) and the load."""
    pids = {name: find() for name, find in groups.items()}
    before = {name: cpu_ticks(p) for name, p in pids.items()}
    busy, load = machine_busy_ticks(), load_average()
    result = run()
    requests = max(result["requests"], 1)
    per_request = lambda ticks: ticks / TICKS * 1e6 / requests
    result["cpu_us_per_request"] = {name: per_request(cpu_ticks(set(pids[name]) | set(find())) - before[name])
                                    for name, find in groups.items()}
    result["cpu_us_per_request"]["machine"] = per_request(machine_busy_ticks() - busy)
    result["load_average"] = [load, load_average()]
    return result


def syscalls_per_request(pids, run):
    """`strace -c` on `pids` while `run()` sends requests: all system calls of those processes per request served,
    the requests counted as their successful accept(2) calls (one per FastCGI connection). None when strace is
    missing or may not trace."""
    if not shutil.which("strace") or not pids:
        return None
    out = f"/tmp/bench-strace-{os.getpid()}.txt"
    tracer = subprocess.Popen(["strace", "-c", "-q", "-o", out] + [a for p in pids for a in ("-p", str(p))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached
    try:
        run()
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=60)
    try:
        with open(out) as f:
            text = f.read()
        os.unlink(out)
    except OSError:
        return None
    calls, accepted, by_name = 0, 0, {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not re.fullmatch(r"[\d.]+", fields[0]) or fields[-1] == "total":
            continue
        name, count = fields[-1], int(fields[3])
        errors = int(fields[4]) if len(fields) == 6 else 0
        calls += count
        by_name[name] = count
        if name in ("accept", "accept4"):
            accepted += count - errors
    if accepted == 0:
        return None
    return {"per_request": calls / accepted, "requests": accepted,
            "by_call": {name: round(n / accepted, 2) for name, n in sorted(by_name.items(), key=lambda kv: -kv[1])[:12]}}


class Ceiling:
    """bench/ceiling.c built with gcc, PROCESSES processes on a socket in the pool's socket folder, behind an nginx
    rendered by scripts/render-nginx from the same settings as the product's, on `port`."""

    def __init__(self, run_dir, port, env, binary, processes):
        self.dir = os.path.join(run_dir, "ceiling")
        os.makedirs(self.dir, exist_ok=True)
        self.binary = os.path.join(self.dir, "ceiling")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fcgi"], capture_output=True, text=True,
                               check=True).stdout.split()
        subprocess.run(["gcc", "-O2", "-Wall", "-o", self.binary, os.path.join(ROOT, "bench", "ceiling.c")] + flags,
                       check=True)
        self.socket = os.path.join(run_dir, "fcgi", "ceiling.sock")
        self.responder = subprocess.Popen([self.binary, self.socket, str(processes)], start_new_session=True)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if time.monotonic() > deadline:
                raise RuntimeError("the ceiling responder did not start")
            time.sleep(0.1)
        self.nginx = start_nginx(os.path.join(self.dir, "nginx"), dict(env, USER_SERVICE_SOCKET=self.socket,
                                 USER_SERVICE_PASSWORD_SOCKET=self.socket, NGINX_HTTP_PORT=str(port),
                                 NGINX_HTTPS_PORT=str(port + 1)), binary)
        self.url = f"http://127.0.0.1:{port}"

    def pids(self):
        return tree(self.responder.pid)

    def nginx_pids(self):
        return tree(self.nginx.pid)

    def stop(self):
        stop_nginx(self.nginx)
        try:
            os.killpg(self.responder.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.responder.wait(timeout=30)


def start_nginx(out, env, binary, edit=None):
    """An nginx rendered into `out` (its own pid file and logs there) from `env`; `edit(out)` may change the files
    before it starts."""
    subprocess.run([os.path.join(ROOT, "scripts", "render-nginx"), "--out", out, "--local", out, "--bin", binary],
                   env=env, check=True)
    if edit:
        edit(out)
    conf = os.path.join(out, "nginx.conf")
    subprocess.run(["nginx", "-t", "-q", "-p", out, "-c", conf], check=True)
    process = subprocess.Popen(["nginx", "-p", out, "-c", conf, "-g", "daemon off;"])
    port = int(env["NGINX_HTTP_PORT"])
    deadline = time.monotonic() + 30
    while subprocess.run(["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("nginx did not start")
        time.sleep(0.1)
    return process


def stop_nginx(process):
    process.send_signal(signal.SIGQUIT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def keep_conn(out):
    """The FastCGI keep-alive variant: each upstream keeps up to 8 idle connections per nginx worker and nginx asks
    the responder to keep each connection open after its request."""
    http = os.path.join(out, "conf.d", "user-service.conf")
    with open(http) as f:
        text = f.read()
    text = re.sub(r"(upstream user_service(_password)? \{\n)", r"\1    keepalive 8;\n", text)
    with open(http, "w") as f:
        f.write(text)
    snippet = os.path.join(out, "snippets", "user-service.conf")
    with open(snippet, "a") as f:
        f.write("fastcgi_keep_conn on;\n")


def chart(rows, path):
    """Throughput and p99 of each hop scenario beside the ceiling's (the median of the rounds), as an SVG drawn by
    gnuplot. False when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        return False
    data = path[:-4] + ".dat"
    with open(data, "w") as f:
        f.write("scenario product_rps ceiling_rps product_p99 ceiling_p99\n")
        for row in rows:
            f.write(f'"{row["scenario"]}" {row["rps"]:.1f} {row["ceiling_rps"]:.1f} {row["p99_ms"]:.3f} '
                    f'{row["ceiling_p99_ms"]:.3f}\n')
    script = f"""
set terminal svg size 1100,460 dynamic font "sans,11" background "#ffffff"
set output "{path}"
set multiplot layout 1,2 title "make bench: the service beside a bare C libfcgi responder behind the same nginx"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics rotate by -20 noenhanced
set title "throughput (requests/s)"
plot "{data}" using 2:xtic(1) title "service" lc rgb "#3465a4", "" using 3 title "C ceiling" lc rgb "#aaaaaa"
set title "p99 latency (ms)"
plot "{data}" using 4:xtic(1) title "service" lc rgb "#cc0000", "" using 5 title "C ceiling" lc rgb "#aaaaaa"
unset multiplot
"""
    result = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    return result.returncode == 0
