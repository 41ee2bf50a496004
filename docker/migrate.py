"""Apply migrations exactly once, however many replicas start at the same time.

Run by docker/entrypoint.sh when DJANGO_MIGRATE_ON_START=1. Every replica
takes the same PostgreSQL advisory lock before `migrate --noinput`: the first
one applies the migrations, the others wait, then find nothing left to do
and go on starting.

The lock is held on a connection of its own, so nothing `migrate` does to
Django's connection can drop it early; it is session-level, so PostgreSQL
releases it if this process dies. Advisory locks are per database: two
databases on one server do not wait for each other.

    DJANGO_MIGRATE_LOCK_TIMEOUT  seconds to wait for another replica's
                                 migration before giving up (default 600)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wait_for_db import describe, float_env, log, setup_django

# Any fixed 64-bit key shared by every replica: the bytes of "signetmg".
MIGRATION_LOCK_ID = int.from_bytes(b"signetmg", "big")


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


def migrate_under_lock(lock_timeout: float) -> int:
    from django.db import connections
    from django.db.utils import OperationalError

    lock_conn = connections.create_connection("default")
    where = describe(lock_conn.settings_dict)
    try:
        with lock_conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATION_LOCK_ID])
            if not cursor.fetchone()[0]:
                log(f"another instance is migrating {where}; waiting up to {lock_timeout:g} s")
                started = time.monotonic()
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false)", [f"{lock_timeout:g}s"]
                )
                try:
                    cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
                except OperationalError:
                    log(
                        f"giving up: the migration lock on {where} is still held after "
                        f"{time.monotonic() - started:.0f} s. Another instance's migration may be "
                        "stuck: look for it in pg_stat_activity (raise "
                        "DJANGO_MIGRATE_LOCK_TIMEOUT for long migrations)."
                    )
                    return 1
                log(f"got the migration lock after {time.monotonic() - started:.1f} s")
            migrate()
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
    finally:
        lock_conn.close()
    return 0


def main() -> int:
    lock_timeout = float_env("DJANGO_MIGRATE_LOCK_TIMEOUT", 600)
    setup_django()
    from django.db import connections

    log("applying migrations")
    if connections["default"].vendor != "postgresql":
        migrate()  # a local SQLite file: one process, nothing to coordinate
        return 0
    return migrate_under_lock(lock_timeout)


if __name__ == "__main__":
    sys.exit(main())
