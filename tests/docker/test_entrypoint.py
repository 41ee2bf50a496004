"""docker/entrypoint.sh, run on the host with the environment compose.prod.yaml gives web.

Each test gets a fresh PostgreSQL database of its own and drops it after.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from . import PROD_ENV, ROOT, service_addresses, web_environment

ENTRYPOINT = ["sh", str(ROOT / "docker" / "entrypoint.sh")]
GUNICORN = ["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi"]
HOST = PROD_ENV["DJANGO_ALLOWED_HOSTS"]
START_BOUND = 45  # seconds for wait + migrate + gunicorn boot on a busy 2-core CI box
WAITING_ON_ADVISORY_LOCK = (
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
    " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
)


def _connect(dbname: str = "postgres", **kwargs) -> psycopg.Connection:
    pg, _ = service_addresses()
    return psycopg.connect(dbname=dbname, autocommit=True, connect_timeout=5, **pg, **kwargs)


@pytest.fixture
def fresh_db() -> Iterator[str]:
    name = f"signet_docker_{secrets.token_hex(4)}"
    with _connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _applied_migrations(dbname: str) -> list[tuple[str, str]]:
    with _connect(dbname) as conn:
        if conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
            return []
        return conn.execute("SELECT app, name FROM django_migrations").fetchall()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": HOST})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


class Server:
    """The entrypoint exec'ing gunicorn, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1"}
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [*ENTRYPOINT, *GUNICORN], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_healthy(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode}:\n{self.output()}")
            if _get(self.port, "/health") == 200:
                return
            time.sleep(0.2)
        pytest.fail(f"/health did not answer 200 within {START_BOUND} s:\n{self.output()}")

    def stop(self) -> None:
        # exec: the signal reaches gunicorn itself, which shuts down gracefully.
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _run(env: dict[str, str], *command: str, timeout: float = 60):
    return subprocess.run(
        [*ENTRYPOINT, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_migrates_a_fresh_database_then_serves_health(tmp_path, fresh_db):
    env = web_environment(tmp_path, database=fresh_db)
    assert env["DJANGO_MIGRATE_ON_START"] == "1"
    server = Server(env, tmp_path / "web.log")
    try:
        server.wait_healthy(time.monotonic() + START_BOUND)
        assert _get(server.port, "/health/live") == 200
        # The container's own probe answers too.
        probe = subprocess.run(
            ["python", "docker/healthcheck.py"],
            cwd=ROOT,
            env={**env, "HEALTHCHECK_URL": f"http://127.0.0.1:{server.port}/health/live"},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert probe.returncode == 0, probe.stderr
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.output()
    assert ("accounts", "0001_initial") in _applied_migrations(fresh_db)


def test_does_not_migrate_when_told_not_to(tmp_path, fresh_db):
    env = web_environment(tmp_path, database=fresh_db, DJANGO_MIGRATE_ON_START="0")
    result = _run(env, "python", "-c", "print('the command ran')")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "the command ran"
    assert "applying migrations" not in result.stderr
    assert _applied_migrations(fresh_db) == []


def test_three_replicas_at_once_all_start_and_migrate_once(tmp_path, fresh_db):
    env = web_environment(tmp_path, database=fresh_db)
    servers = [Server(env, tmp_path / f"web{i}.log") for i in range(3)]
    try:
        deadline = time.monotonic() + START_BOUND
        for server in servers:
            server.wait_healthy(deadline)
    finally:
        for server in servers:
            server.stop()
    applied_by = [re.findall(r"Applying (\S+)\.\.\. OK", s.output()) for s in servers]
    applied = [name for names in applied_by for name in names]
    rows = _applied_migrations(fresh_db)
    assert len(rows) == len(set(rows)) > 0
    assert sorted(applied) == sorted(f"{app}.{name}" for app, name in rows)
    assert sum(1 for names in applied_by if names) == 1, "exactly one replica migrated"


def test_replicas_queue_on_the_migration_lock(tmp_path, fresh_db):
    show_id = "import runpy; print(runpy.run_path('docker/migrate.py')['MIGRATION_LOCK_ID'])"
    env = web_environment(tmp_path, database=fresh_db, DJANGO_MIGRATE_LOCK_TIMEOUT="1")
    lock_id = int(subprocess.check_output(["python", "-c", show_id], cwd=ROOT, env=env, text=True))
    migrate = ["python", "docker/migrate.py"]
    with _connect(fresh_db) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [lock_id])
        # A migration that outlives the bound: this replica gives up, clearly.
        gave_up = subprocess.run(migrate, cwd=ROOT, env=env, capture_output=True, text=True)
        assert gave_up.returncode != 0
        assert "another instance is migrating" in gave_up.stderr
        assert "giving up: the migration lock" in gave_up.stderr
        # Within the bound it waits, and migrates once the lock is free.
        env["DJANGO_MIGRATE_LOCK_TIMEOUT"] = "60"
        waiting = subprocess.Popen(
            migrate, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + START_BOUND
        while not holder.execute(WAITING_ON_ADVISORY_LOCK).fetchone()[0]:
            assert waiting.poll() is None, waiting.communicate()
            assert time.monotonic() < deadline, "migrate.py never queued on the lock"
            time.sleep(0.1)
        assert _applied_migrations(fresh_db) == []
        holder.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
        out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, out + err
    assert "got the migration lock" in err
    assert _applied_migrations(fresh_db)


def test_gives_up_clearly_when_postgres_is_unreachable(tmp_path):
    env = web_environment(tmp_path, database="signet", DB_WAIT_TIMEOUT="2", DB_WAIT_INTERVAL="0.5")
    closed = _free_port()  # nothing listens there: refused at once
    env["DATABASE_URL"] = re.sub(r"@[^/]+/", f"@127.0.0.1:{closed}/", env["DATABASE_URL"])
    started = time.monotonic()
    result = _run(env, "python", "-c", "print('must not run')")
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert "must not run" not in result.stdout
    assert f"PostgreSQL at 127.0.0.1:{closed}" in result.stderr
    assert "giving up" in result.stderr and "not reachable after 2 s" in result.stderr
    assert 2 <= elapsed < 30


def test_execs_the_command_with_the_environment_it_was_given(tmp_path, fresh_db):
    env = web_environment(tmp_path, database=fresh_db, DJANGO_MIGRATE_ON_START="0")
    script = 'echo "$$"; echo "$#:$1"; env'
    with subprocess.Popen(
        [*ENTRYPOINT, "sh", "-c", script, "sh", "one arg with spaces"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    pid, args, *lines = out.splitlines()
    assert int(pid) == proc.pid, "the command replaces the entrypoint's process (exec)"
    assert args == "1:one arg with spaces"
    seen = dict(line.split("=", 1) for line in lines if "=" in line)
    shell_own = {"PWD", "SHLVL", "_", "OLDPWD"}
    added = {k for k in set(seen) - set(env) - shell_own}
    changed = {k for k in env if k not in shell_own and seen.get(k) != env[k]}
    assert not added and not changed, "the entrypoint must not compute environment"
