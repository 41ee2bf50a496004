"""Real processes for the system tests: a private PostgreSQL cluster, a private
redis-server and Signet itself under gunicorn, all on loopback and free ports.

Nothing here touches the machine's shared PostgreSQL or Redis, except the
fallback (`SharedPostgres`) used when `initdb` cannot run; that one only ever
creates and drops databases of its own.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("SIGNET_PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"
# Bounds for every wait: a busy 2-core CI box boots gunicorn + Django in a few seconds.
START_TIMEOUT = 40.0
STOP_TIMEOUT = 15.0
# Settings the servers must not inherit from whoever runs pytest.
_NOT_INHERITED = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "ACCOUNT_",
    "WALLET_",
    "EMAIL_",
    "SIGNET_",
    "TEST_DATABASE",
    "TEST_REDIS",
    "GUNICORN_",
    "WEB_CONCURRENCY",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _die_with_parent() -> None:
    """Run in the child before exec: if pytest is killed (a CI timeout), its
    servers get SIGTERM instead of lingering on their ports."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _terminate(process: subprocess.Popen | None) -> None:
    """SIGTERM and wait; SIGKILL if it has not exited within STOP_TIMEOUT."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- PostgreSQL -------------------------------------------------------------------


class Postgres:
    """What the tests need from a PostgreSQL server: databases, and maybe a restart."""

    port: int
    can_restart = False

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=HOST, port=self.port, user="postgres", dbname=dbname, autocommit=True,
            connect_timeout=5,
        )  # fmt: skip

    def create_database(self, name: str, template: str | None = None) -> None:
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        raise NotImplementedError


class PostgresCluster(Postgres):
    """A throwaway cluster: initdb into `base`, pg_ctl start/stop on a free port.

    Runs as the `postgres` user when pytest runs as root (initdb refuses root).
    fsync stays on: the restart test stops the server the hard way and checks
    that committed writes survive crash recovery.
    """

    can_restart = True

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.log = base / "postgres.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(base, user="postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses={HOST}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: no checkpoint, recovery from the WAL on start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        try:
            with self.connect() as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def close(self) -> None:
        if self.is_running():
            self.stop("fast")
        shutil.rmtree(self.base, ignore_errors=True)


class SharedPostgres(Postgres):
    """Fallback: the machine's server, for tests that never stop PostgreSQL."""

    def __init__(self, port: int = 5432) -> None:
        self.port = port

    def close(self) -> None:
        pass


def start_postgres(base: Path) -> Postgres:
    try:
        return PostgresCluster(base)
    except (OSError, subprocess.SubprocessError, LookupError):
        return SharedPostgres()


# --- Redis ------------------------------------------------------------------------


class RedisServer:
    """A private, memory-only redis-server; `stop()` and `start()` keep its port."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.log = base / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(self.base),
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        if not wait_until(self.ping, 10):
            raise RuntimeError(f"redis-server did not start:\n{_tail(self.log)}")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


# --- Signet under gunicorn --------------------------------------------------------


@dataclass
class SignetServer:
    """One Signet instance: `gunicorn config.wsgi` with its own environment."""

    env: dict[str, str]
    base: Path
    database: str = ""
    mail_dir: Path | None = None
    workers: int = 3
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def redis_prefix(self) -> str:
        return self.env["REDIS_KEY_PREFIX"]

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.base / f"gunicorn-{self.port}.log"

    def url(self, path: str) -> str:
        return self.origin + path

    def api(self, client: str, path: str) -> str:
        return f"{self.origin}/_allauth/{client}/v1{path}"

    def start(self) -> None:
        # The image's gunicorn settings (docker/gunicorn.conf.py: preloaded
        # workers, no control socket), sized and bound through its variables.
        command = [
            sys.executable, "-m", "gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi",
        ]  # fmt: skip
        env = {
            **self.env,
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_BIND": f"{HOST}:{self.port}",
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "GUNICORN_TIMEOUT": "60",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        # With the app preloaded, the first worker answers while the master is
        # still forking the others: started means all of them are there.
        if not wait_until(self._all_workers_live, START_TIMEOUT, 0.2):
            self.stop()
            raise RuntimeError(f"gunicorn did not come up:\n{_tail(self.log)}")

    def _all_workers_live(self) -> bool:
        return self._live() and len(self.worker_pids()) >= self.workers

    def _live(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{_tail(self.log)}")
        try:
            return requests.get(self.url("/health/live"), timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> set[int]:
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(child) for child in children}

    def log_tail(self) -> str:
        return _tail(self.log)

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


def server_environment(
    *,
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    mail_dir: Path,
    wallet_domains: str,
    overrides: Mapping[str, str],
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_DEBUG="false",
        # Replicas must share it: sessions, CSRF and emailed keys are signed with it.
        DJANGO_SECRET_KEY="system-tests-" + "s" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=redis_prefix,
        # django-environ drops the first "/" of the path: four slashes make it absolute.
        EMAIL_URL=f"filemail:///{mail_dir}",
        FRONTEND_URL="https://app.example.com",
        ACCOUNT_EMAIL_VERIFICATION="none",
        ACCOUNT_RATE_LIMITS="off",
        WALLET_DOMAINS=wallet_domains,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def migrate(env: Mapping[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"
