"""Shared helpers for the on-demand benchmarks (run as scripts, never collected).

- `throwaway_database()`: a PostgreSQL database made for one run, dropped after;
- `redis_url()`: a Redis DB index of the run's own, flushed after;
- `manage()`: `manage.py` with an environment (migrate, createsuperuser, ...);
- `gunicorn()`: the app served on a free loopback port, until the block ends;
- `wrk()`: load from wrk (C, event loop: a few % of one core at thousands of
  req/s, so the server keeps the cores) plus the CPU each side used;
  `warmed_wrk()` the same after a 2 s warm-up.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def as_in_the_image() -> str:
    """Run this script again under the image's malloc settings unless
    GLIBC_TUNABLES is already set (set it empty to measure glibc's defaults).
    glibc reads them only when a process starts; the server and the argon2
    reference inherit them from here. Returns the setting in force."""
    if "GLIBC_TUNABLES" not in os.environ:
        from tests.docker import image_env  # what docker/Dockerfile sets

        env = {**os.environ, "GLIBC_TUNABLES": image_env("GLIBC_TUNABLES")}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606 (this script, again)
    return os.environ["GLIBC_TUNABLES"]


@contextmanager
def throwaway_database(prefix: str = "signet_bench") -> Iterator[str]:
    """Create an empty database, yield its URL, drop it (even on failure)."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_url(index: int) -> Iterator[str]:
    """A Redis DB index for this run alone; emptied before and after."""
    url = f"{REDIS_BASE}/{index}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _stat(pid: int) -> list[int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return [int(f) for f in fields[11:15]]  # utime, stime, cutime, cstime


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process, from /proc."""
    stats = {pid: _stat(pid) for pid in pids}
    return {pid: (st[0] + st[1]) / CLK_TCK for pid, st in stats.items() if st is not None}


def cpu_seconds(pids: list[int]) -> float:
    return sum(cpu_by_pid(pids).values())


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its children that ended (reaped) and the live
    ones: a gunicorn master and every worker it ever had, recycled ones too."""
    own = _stat(pid)
    if own is None:
        return 0.0
    return sum(own) / CLK_TCK + cpu_seconds(children(pid))


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    database_url: str | None = None

    @property
    def workers(self) -> list[int]:
        """The live workers (gunicorn replaces them every GUNICORN_MAX_REQUESTS)."""
        return children(self.process.pid)


def request(url: str, method: str = "GET", body: dict | None = None, headers=None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, headers or {}, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    ready_path: str = "/health/live",
    app: str = "config.wsgi",
    port: int | None = None,
) -> Iterator[Server]:
    """Serve `app` (a WSGI module) on loopback until the block ends: on `port`,
    or a free one (a caller that must name the port in its settings picks it
    first with free_port()). The image's gunicorn settings
    (docker/gunicorn.conf.py: preloaded workers, recycling, multiprocess
    metrics as compose.prod.yaml has them), sized through its variables."""
    port = port or free_port()
    cmd = [str(BIN / "gunicorn"), "--config", "docker/gunicorn.conf.py", app]
    cmd += ["--worker-class", worker_class]
    metrics_dir = tempfile.mkdtemp(prefix="signet-bench-metrics-")
    env = {
        **env,
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_TIMEOUT": "60",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }
    process = subprocess.Popen(cmd, cwd=REPO, env=env)
    server = Server(f"http://127.0.0.1:{port}", process, env.get("DATABASE_URL"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(server.url + ready_path, timeout=1)  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        while len(server.workers) < workers:
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def rss_mib(pid: int) -> float:
    """Resident memory of a live process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class LoadResult:
    """One scenario. CPU figures are per request, in ms: on a shared machine
    they stay meaningful when throughput does not (others steal the cores)."""

    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    worker_cpu_ms: float  # the gunicorn master and its workers, recycled ones included
    db_cpu_ms: float  # the PostgreSQL backends serving them
    client_cpu_ms: float  # wrk
    machine_busy: float  # share of all cores busy meanwhile (anyone's work)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        """Workers + database: what the server side spends per request."""
        return self.worker_cpu_ms + self.db_cpu_ms

    def cpu_bound_rps(self, cores: int) -> float:
        """Throughput if the server side (workers + database) had `cores` to itself."""
        return 1000 * cores / max(self.server_cpu_ms, 1e-9)


def _lua(
    method: str,
    body: str | None,
    headers: dict[str, str],
    bodies: str | None,
    once: bool,
    header: str | None = None,
) -> str:
    """wrk's script: a fixed request, or one body per request from a JSONL
    file, cycling through it or (`once`) stopping the thread when it runs out."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines.append(f"wrk.body = [==[{body}]==]")
    lines += [f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in headers.items()]
    if bodies is not None:
        lines.append(_bodies_lua(bodies, once, header))
    return "\n".join(lines) + "\n"


def _bodies_lua(path: str, once: bool, header: str | None) -> str:
    # A reused nonce answers a cheap 400 and would flatter the rate: in `once`
    # mode each body is sent once and the thread stops when they run out.
    # With `header`, each line is "<that header's value>\t<body>": a request
    # of its own session (a pending second factor, say) carries its token.
    split = "true" if header else "false"
    return f"""
local bodies, values, index, once = {{}}, {{}}, 0, {str(once).lower()}
function init(args)
  for line in io.lines([==[{path}]==]) do
    if {split} then
      local tab = line:find("\\t", 1, true)
      values[#values + 1] = line:sub(1, tab - 1)
      line = line:sub(tab + 1)
    end
    bodies[#bodies + 1] = line
  end
end
function request()
  index = index + 1
  if index > #bodies then
    if once then wrk.thread:stop() end
    index = once and #bodies or 1
  end
  local headers = nil
  if {split} then
    headers = {{}}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers[ [==[{header or ""}]==] ] = values[index]
  end
  return wrk.format(nil, nil, headers, bodies[index])
end
"""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _parse_wrk(output: str) -> dict:
    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")

    done = re.search(r"(\d+) requests in ([\d.]+)s", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(g) for g in sockets.groups()) if sockets else 0
    return {
        "requests": int(done.group(1)),
        "seconds": float(done.group(2)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": errors,
    }


def postgres_backends(database_url: str) -> list[int]:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return [pid for (pid,) in rows]


def wrk(
    name: str,
    url: str,
    *,
    server: Server,
    seconds: int = 10,
    connections: int = 4,
    method: str = "GET",
    body: dict | None = None,
    headers: dict[str, str] | None = None,
    bodies: str | None = None,
    once: bool = False,
    header: str | None = None,
) -> LoadResult:
    """Drive `url` with one wrk thread; non-2xx and socket errors count as errors.

    `body` is sent with every request; `bodies` (a JSONL file) gives one body per
    request instead, cycled, or each sent `once`; with `header` (a name), each
    line of `bodies` is that header's value, a tab, then the body.
    """
    headers = dict(headers or {})
    if body is not None or bodies is not None:
        headers.setdefault("Content-Type", "application/json")
    payload = None if body is None else json.dumps(body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(method, payload, headers, bodies, once, header))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url]
    db_before = cpu_by_pid(_backends(server))
    before = (tree_cpu_seconds(server.process.pid), machine_busy_seconds())
    start = time.monotonic()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - start
    os.unlink(script.name)
    if status:
        raise RuntimeError(f"wrk failed:\n{output}")
    parsed = _parse_wrk(output)
    per_request = 1000 / max(parsed["requests"], 1)
    # Backends opened by new workers count whole; one that closed with its
    # worker during the run loses its last stretch (/proc has it no more).
    db_after = cpu_by_pid(_backends(server))
    db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    return LoadResult(
        name=name,
        worker_cpu_ms=(tree_cpu_seconds(server.process.pid) - before[0]) * per_request,
        db_cpu_ms=db_cpu * per_request,
        client_cpu_ms=(usage.ru_utime + usage.ru_stime) * per_request,
        machine_busy=(machine_busy_seconds() - before[1]) / elapsed / (os.cpu_count() or 1),
        **parsed,
    )


def _backends(server: Server) -> list[int]:
    return postgres_backends(server.database_url) if server.database_url else []


def warmed_wrk(name: str, url: str, *, server: Server, seconds: int, **options) -> LoadResult:
    """wrk() after a 2 s warm-up that loads lazy imports and opens connections."""
    wrk(name, url, server=server, seconds=2, **options)
    return wrk(name, url, server=server, seconds=seconds, **options)


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


@contextmanager
def py_spy(pids: list[int], out: Path) -> Iterator[None]:
    """Sample `pids` with py-spy (`pip install py-spy`) while the block runs,
    writing collapsed stacks (one "frame;frame;... count" line each) to `out`."""
    procs = [
        subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--gil",
                "--output",
                f"{out}.{pid}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]
    try:
        yield
    finally:
        for proc in procs:
            proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
            proc.wait(timeout=30)
        with out.open("w") as merged:
            for pid in pids:
                part = Path(f"{out}.{pid}")
                if part.exists():
                    merged.write(part.read_text())
                    part.unlink()


def top_frames(collapsed: Path, top: int = 30) -> list[tuple[float, str]]:
    """Inclusive share of samples per function, from py-spy's collapsed stacks."""
    totals: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples += int(count)
        for frame in set(stack.split(";")):
            totals[frame] = totals.get(frame, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return [(100 * n / max(samples, 1), frame) for frame, n in ranked]


@contextmanager
def profiled(name: str, server, args) -> Iterator[None]:
    """py-spy on the workers while the block runs when `args.profile` is
    `name` (pip install py-spy), as bench_accounts.py's --profile does:
    prints the inclusive shares of the GIL-holding samples."""
    if getattr(args, "profile", None) != name:
        yield
        return
    out = Path(tempfile.gettempdir()) / f"signet-profile-{name.replace(' ', '-')}.txt"
    with py_spy(server.workers, out):
        yield
    print(f"\n{name}: inclusive share of the workers' on-CPU samples ({out})")
    for share, frame in top_frames(out, 60):
        print(f"{share:5.1f}%  {frame}")
