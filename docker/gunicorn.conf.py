"""Gunicorn settings for the runtime image: `gunicorn -c docker/gunicorn.conf.py config.wsgi`.

Everything that differs between deployments comes from the environment:

    GUNICORN_BIND             address to listen on (default 0.0.0.0:$PORT, PORT default 8000)
    WEB_CONCURRENCY           worker processes (default 2 x CPUs + 1, at most 8)
    GUNICORN_THREADS          threads per worker (default 1: sync workers)
    GUNICORN_TIMEOUT          seconds a request may take before its worker is restarted (30)
    GUNICORN_GRACEFUL_TIMEOUT seconds in-flight requests get after SIGTERM (30)
    GUNICORN_KEEPALIVE        keep-alive seconds towards the proxy in front (5)
    GUNICORN_MAX_REQUESTS     recycle a worker after this many requests (10000; 0: never)
    GUNICORN_PRELOAD          load the app once in the master, before forking workers (1)
    GUNICORN_CONTROL_SOCKET   path of gunicornc's control socket (default: none)
    LOG_LEVEL                 gunicorn's error log level (info)

Sync workers are safe only behind a buffering proxy (nginx in compose.prod.yaml):
a slow client would otherwise hold a whole worker.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer (got {raw!r})") from None


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8))
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker that imports the app itself spends a lot of CPU before its first
# request: recycling often without preloading cost more than half the
# throughput of /health/live (tests/benchmarks/README.md).
# The master imports the app before forking (nothing connects at import: the
# database and Redis connect on first use, prometheus_client resets its files
# after a fork), so a new worker only forks.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
preload_app = _int("GUNICORN_PRELOAD", 1) != 0

# Logs go to the container's stdout/stderr; Docker collects them. No access
# log here: the app writes one line per request itself, with the request id,
# without the query string (gunicorn's would carry it) and through redaction.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# The root filesystem is read-only in production: the heartbeat file goes to
# memory, and the control socket exists only where someone asked for it.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


THP_SETTING = "/sys/kernel/mm/transparent_hugepage/enabled"


def huge_pages_refused(tunables: str, setting: str = THP_SETTING) -> bool:
    """Does GLIBC_TUNABLES ask malloc for transparent huge pages (the image
    does, for argon2's block) on a kernel that has them switched off? Then
    every password check re-faults 19 MiB in 4 KiB pages."""
    if "glibc.malloc.hugetlb=1" not in tunables.split(":"):
        return False
    try:
        with open(setting) as file:
            return "[never]" in file.read()
    except OSError:
        return False  # no /sys to read: nothing to say


def on_starting(server) -> None:
    if huge_pages_refused(os.environ.get("GLIBC_TUNABLES", "")):
        server.log.warning(
            "transparent huge pages are off on this host: each password check costs "
            "more with GLIBC_TUNABLES=%s; set GLIBC_TUNABLES= (empty) to keep "
            "argon2's memory resident instead (README, Measured)",
            os.environ["GLIBC_TUNABLES"],
        )
    # prometheus_client's multiprocess files: every run starts from an empty
    # directory, or counters of a previous run would be summed in.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))


def child_exit(server, worker) -> None:
    """A dead worker's gauges must stop counting in /metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
