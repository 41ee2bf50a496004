"""Wait until PostgreSQL accepts a real connection, within a bound.

Run by docker/entrypoint.sh before anything else. It connects the way Django
will (the same settings, so DATABASE_URL, DATABASE_PASSWORD and their *_FILE
forms), runs `SELECT 1`, and retries on failure until the bound. A port probe
would pass while PostgreSQL still refuses connections (starting up, running
its init scripts) or while the password is wrong.

    DB_WAIT_TIMEOUT   seconds to keep trying (default 60; 0 tries once)
    DB_WAIT_INTERVAL  seconds between attempts (default 1)

Exit status: 0 connected, 1 gave up (the last error is printed), 2 the
settings themselves are wrong.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def log(message: str) -> None:
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


def float_env(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        log(f"{name} must be a number of seconds (got {raw!r})")
        raise SystemExit(2) from None


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        log(f"configuration error ({os.environ['DJANGO_SETTINGS_MODULE']}): {exc}")
        raise SystemExit(2) from None


def describe(settings_dict: dict) -> str:
    """Where we connect, for messages; never the password."""
    host = settings_dict.get("HOST") or "local socket"
    port = settings_dict.get("PORT") or 5432
    name, user = settings_dict.get("NAME"), settings_dict.get("USER")
    return f"{host}:{port}, database {name!r}, user {user!r}"


def try_connect(connect_timeout: int) -> str | None:
    """One real connection attempt; the error as one line, or None on success."""
    from django.db import connections
    from django.db.utils import OperationalError

    conn = connections.create_connection("default")
    options = {**conn.settings_dict.get("OPTIONS", {}), "connect_timeout": connect_timeout}
    conn.settings_dict = {**conn.settings_dict, "OPTIONS": options}
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except OperationalError as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    finally:
        conn.close()


def main() -> int:
    timeout = float_env("DB_WAIT_TIMEOUT", 60)
    interval = max(float_env("DB_WAIT_INTERVAL", 1), 0.1)
    setup_django()
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        log(f"database is {connections['default'].vendor}, not PostgreSQL: not waiting")
        return 0

    where = describe(settings_dict)
    deadline = time.monotonic() + timeout
    attempt, last_logged = 0, None
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        # libpq's connect_timeout is whole seconds, at least 2.
        error = try_connect(connect_timeout=max(2, min(10, int(remaining) + 1)))
        if error is None:
            if attempt > 1:
                log(f"PostgreSQL at {where} is ready (attempt {attempt})")
            return 0
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if error != last_logged:
            log(f"waiting for PostgreSQL at {where}: {error}")
            last_logged = error
        time.sleep(min(interval, remaining))

    log(
        f"giving up: PostgreSQL at {where} is not reachable after {timeout:g} s "
        f"({attempt} attempts); last error: {error}"
    )
    log(
        "check that the database is running and healthy, and check DATABASE_URL and "
        "DATABASE_PASSWORD / DATABASE_PASSWORD_FILE; DB_WAIT_TIMEOUT raises the bound"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
