"""Email accounts under load: login, authenticated session read, liveness.

    .venv/bin/python tests/benchmarks/bench_accounts.py [--seconds 10] [--workers 2]

Serves the app with gunicorn on loopback against a throwaway PostgreSQL
database and a Redis DB index of its own, drives it with wrk, then measures
argon2 verification alone with as many processes as there are workers.
Targets (DESIGN.md): login >= 0.85 x argon2 alone; GET session >= 0.55 x liveness.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo, for accounts

from _util import (
    LoadResult,
    as_in_the_image,
    gunicorn,
    machine_busy_seconds,
    manage,
    print_table,
    py_spy,
    redis_url,
    request,
    throwaway_database,
    top_frames,
    wrk,
)
from bench_argon2 import configured, verify_cpu_ms, verify_rate

EMAIL = "bench@example.com"
PASSWORD = "correct horse battery staple"
API = "/_allauth/app/v1"
TARGETS = {"login": 0.85, "session": 0.55}


def app_env(database_url: str, redis: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "REDIS_KEY_PREFIX": "signet-bench",
        "ACCOUNT_RATE_LIMITS": "off",
        "ACCOUNT_EMAIL_VERIFICATION": "none",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SUPERUSER_EMAIL": EMAIL,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "LOG_LEVEL": "WARNING",
    }


def machine_idle_check(seconds: float = 1.0) -> float:
    """Share of all cores busy before the run: others' load skews every figure."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / seconds / (os.cpu_count() or 1)


def drive(server, args) -> list[LoadResult]:
    credentials = {"email": EMAIL, "password": PASSWORD}
    token = request(server.url + API + "/auth/login", "POST", credentials)["meta"]["session_token"]
    scenarios = [
        ("login", API + "/auth/login", {"method": "POST", "body": credentials}),
        ("session", API + "/auth/session", {"headers": {"X-Session-Token": token}}),
        ("liveness", "/health/live", {}),
    ]
    results = []
    for name, path, options in scenarios:
        common = {"server": server, "connections": args.connections, **options}
        wrk(name, server.url + path, seconds=2, **common)  # warm up: imports, DB connections
        if name != args.profile:
            results.append(wrk(name, server.url + path, seconds=args.seconds, **common))
            continue
        out = Path(tempfile.gettempdir()) / f"signet-profile-{name}.txt"
        with py_spy(server.workers, out):
            results.append(wrk(name, server.url + path, seconds=args.seconds, **common))
        print(f"\n{name}: inclusive share of the workers' on-CPU samples ({out})")
        for share, frame in top_frames(out, args.profile_top):
            print(f"{share:5.1f}%  {frame}")
    return results


def report(results: dict[str, LoadResult], argon2: tuple[float, float], args) -> None:
    """Throughput ratios as measured, and as the CPU per request predicts them
    (the second holds on a shared machine, where others steal cores)."""
    argon2_rate, argon2_cpu_ms = argon2
    cores = min(args.workers, os.cpu_count() or 1)
    print(
        f"\n{args.workers} gunicorn {args.worker_class} worker(s) x {args.threads} thread(s); "
        f"wrk 1 thread x {args.connections} connections; {args.seconds}s per scenario; "
        f"CPU in ms per request"
    )
    rows = [
        [
            r.name,
            f"{r.rps:.1f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            r.errors,
            f"{r.worker_cpu_ms:.2f}",
            f"{r.db_cpu_ms:.2f}",
            f"{r.client_cpu_ms:.2f}",
            f"{100 * r.machine_busy:.0f}%",
            f"{r.cpu_bound_rps(cores):.1f}",
        ]
        for r in results.values()
    ]
    rows.append(
        [
            "argon2 verify alone",
            f"{argon2_rate:.1f}",
            "",
            "",
            "",
            f"{argon2_cpu_ms:.2f}",
            "",
            "",
            "",
            f"{1000 * cores / argon2_cpu_ms:.1f}",
        ]
    )
    print_table(
        [
            "scenario",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "worker CPU",
            "db CPU",
            "wrk CPU",
            "cores busy",
            f"CPU-bound req/s ({cores} cores)",
        ],
        rows,
    )
    login, session, live = results["login"], results["session"], results["liveness"]
    ratios = {
        "login": (
            login.rps / argon2_rate,
            login.cpu_bound_rps(cores) / (1000 * cores / argon2_cpu_ms),
        ),
        "session": (
            session.rps / live.rps,
            session.cpu_bound_rps(cores) / live.cpu_bound_rps(cores),
        ),
    }
    print()
    for name, label in (("login", "login / argon2 alone"), ("session", "session / liveness")):
        measured, by_cpu = ratios[name]
        verdict = "OK" if measured >= TARGETS[name] else "MISSED"
        print(
            f"{label:22} measured {measured:.2f}  by CPU {by_cpu:.2f}  "
            f"(target >= {TARGETS[name]}: {verdict})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=14)
    parser.add_argument(
        "--profile",
        choices=["login", "session", "liveness"],
        help="sample the workers with py-spy during this scenario (pip install py-spy)",
    )
    parser.add_argument("--profile-top", type=int, default=40)
    parser.add_argument(
        "--wsgi",
        default="config.wsgi",
        help="WSGI module to serve (a what-if variant on PYTHONPATH, for instance)",
    )
    args = parser.parse_args()
    tunables = as_in_the_image()

    busy = machine_idle_check()
    if busy > 0.10:
        print(f"warning: {100 * busy:.0f}% of the CPUs were busy before the run", file=sys.stderr)
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = app_env(database_url, redis)
        manage(env, "migrate", "--noinput")
        manage(env, "createsuperuser", "--noinput")
        with gunicorn(
            env,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            app=args.wsgi,
        ) as server:
            results = {r.name: r for r in drive(server, args)}
    argon2 = (verify_rate(configured(), args.workers, args.seconds), verify_cpu_ms(configured()))
    print(f"GLIBC_TUNABLES={tunables}")
    report(results, argon2, args)


if __name__ == "__main__":
    main()
