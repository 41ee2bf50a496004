"""Every benchmark in one run, one table, against the targets.

    .venv/bin/python tests/benchmarks/run_all.py [--seconds 10] [--connections 4]

One gunicorn server (2 sync workers, the settings of bench_accounts.py plus
WALLET_DOMAINS=127.0.0.1:<port>) on a throwaway database and Redis DB
`--redis-db`, driven by wrk over loopback: liveness, password login, the
authenticated session GET, then wallet challenge and verify for each chain
family (bench_wallets.py's scenarios), and liveness again. The workers'
resident memory is read after all that load. Then, on the same database, two
more servers in turn: bench_mfa.py's (TOTP and WebAuthn completing a pending
sign-in, each beside its floor) and bench_tokens.py's (SIGNET_TOKEN_STRATEGY=jwt:
the session GET by session token, by access token, and the token's floor).
argon2 verification runs alone at the configured parameters, one process per
worker, before the first server starts and again after the last one stops
(the median is the login's reference).

Ratios are shown as measured (req/s over req/s) and by CPU (server-side CPU
per request: workers + PostgreSQL backends), the steadier figure on a shared
machine. Targets (2 cores): login >= 0.85 x argon2 alone; session GET >= 0.55
x liveness; challenge >= 0.65 x; verify >= 0.30 x; <= 90 MiB RSS per worker;
TOTP and WebAuthn 2FA >= 0.8 x their floor; access-token GET >= 1.5 x the
session-token GET of the same server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo

import bench_mfa
import bench_tokens
import bench_wallets
from _util import (
    LoadResult,
    as_in_the_image,
    free_port,
    gunicorn,
    manage,
    print_table,
    redis_url,
    request,
    rss_mib,
    throwaway_database,
    warmed_wrk,
)
from bench_accounts import API, EMAIL, PASSWORD, machine_idle_check
from bench_argon2 import configured, verify_cpu_ms, verify_rate

TARGETS = {"login": 0.85, "session": 0.55, "challenge": 0.65, "verify": 0.30}
# Rows held to another row of the same run instead: (that row, target).
RELATIVE: dict[str, tuple[str, float | None]] = {
    "totp 2fa": ("totp 2fa (floor)", 0.8),
    "webauthn 2fa": ("webauthn 2fa (floor)", 0.8),
    "jwt: access-token GET": ("jwt: session GET", 1.5),
    "jwt: access-token (floor)": ("jwt: session GET", None),
}
RSS_TARGET_MIB = 90
WORKERS = 2  # gunicorn sync workers; argon2 alone runs as many processes


@dataclass
class Row:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float  # server side per request: workers + PostgreSQL backends
    busy: float  # share of all cores busy meanwhile (anyone's work)


def from_load(result: LoadResult) -> Row:
    return Row(
        result.name,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.errors,
        result.server_cpu_ms,
        result.machine_busy,
    )


def drive(server, args) -> tuple[list[Row], list[float]]:
    credentials = {"email": EMAIL, "password": PASSWORD}
    token = request(server.url + API + "/auth/login", "POST", credentials)["meta"]["session_token"]
    load = {"server": server, "seconds": args.seconds, "connections": args.connections}
    results = [
        warmed_wrk("liveness", server.url + "/health/live", **load),
        warmed_wrk(
            "login", server.url + API + "/auth/login", method="POST", body=credentials, **load
        ),
        warmed_wrk(
            "session",
            server.url + API + "/auth/session",
            headers={"X-Session-Token": token},
            **load,
        ),
    ]
    for family in bench_wallets.FAMILIES:
        results += bench_wallets.drive_family(server, family, args)
    results.append(warmed_wrk("liveness (again)", server.url + "/health/live", **load))
    return [from_load(r) for r in results], [rss_mib(pid) for pid in server.workers]


def median_rows(rounds: list[list[Row]]) -> list[Row]:
    """Per scenario, the median of each figure over the rounds (errors: the sum)."""
    out = []
    for runs in zip(*rounds, strict=True):
        out.append(
            Row(
                runs[0].name,
                statistics.median(r.rps for r in runs),
                statistics.median(r.p50_ms for r in runs),
                statistics.median(r.p99_ms for r in runs),
                sum(r.errors for r in runs),
                statistics.median(r.cpu_ms for r in runs),
                statistics.median(r.busy for r in runs),
            )
        )
    return out


def verdict(target: float | None, measured: float, by_cpu: float) -> str:
    if target is None:
        return ""
    met = (measured >= target, by_cpu >= target)
    return {(True, True): "OK", (False, False): "MISSED"}.get(
        met, "OK by CPU" if met[1] else "OK measured"
    )


def report(rows: list[Row], rss: list[float], argon2: tuple[float, float] | None, args) -> None:
    # The reference: both liveness runs, averaged. A single one may fall on a
    # busy spell of a shared machine; before and after bracket the others.
    lives = [r for r in rows if r.name.startswith("liveness")]
    live = Row(
        "liveness (mean)",
        sum(r.rps for r in lives) / len(lives),
        0.0,
        0.0,
        0,
        sum(r.cpu_ms for r in lives) / len(lives),
        0.0,
    )
    by_name = {r.name: r for r in rows}
    out = []
    for r in rows:
        kind = r.name.split()[0]
        if r.name in RELATIVE:
            ref, target = by_name[RELATIVE[r.name][0]], RELATIVE[r.name][1]
            measured, by_cpu = r.rps / ref.rps, ref.cpu_ms / r.cpu_ms
        elif kind == "login" and argon2 is not None:
            measured, by_cpu = r.rps / argon2[0], argon2[1] / r.cpu_ms
            target = TARGETS[kind]
        else:
            measured, by_cpu = r.rps / live.rps, live.cpu_ms / r.cpu_ms
            target = TARGETS.get(kind)
        out.append(
            [r.name, f"{r.rps:.1f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.errors,
             f"{r.cpu_ms:.2f}", f"{100 * r.busy:.0f}%", f"{measured:.2f}", f"{by_cpu:.2f}",
             f">= {target}" if target else "", verdict(target, measured, by_cpu)]
        )  # fmt: skip
    if argon2 is not None:
        out.append(
            ["argon2 verify alone", f"{argon2[0]:.1f}", "", "", "", f"{argon2[1]:.2f}", "",
             "", "", "", ""]
        )  # fmt: skip
    print(
        f"\n{WORKERS} gunicorn sync workers; wrk 1 thread x {args.connections} connections, "
        f"{args.seconds}s per scenario, median of {args.rounds} round(s).\nRatios: login "
        "against argon2 alone; TOTP and WebAuthn 2FA against their floor; the access-token "
        "GET against the session GET of the same (jwt) server; the rest against the mean "
        "of the two liveness runs. CPU = server side (workers + PostgreSQL) per request."
    )
    print_table(
        ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "CPU ms/req", "cores busy",
         "ratio", "ratio by CPU", "target", ""],
        out,
    )  # fmt: skip
    if not rss:
        return
    worst = max(rss)
    print(
        "\nRSS per worker after the run: "
        + ", ".join(f"{m:.1f} MiB" for m in rss)
        + f"  (target <= {RSS_TARGET_MIB} MiB: {'OK' if worst <= RSS_TARGET_MIB else 'MISSED'})"
    )


def argon2_alone(seconds: int) -> tuple[float, float]:
    """Verifies/s with one process per worker, and CPU ms per verify."""
    return verify_rate(configured(), WORKERS, seconds), verify_cpu_ms(configured())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every scenario this many times and report the medians (steadier when "
        "the machine is shared)",
    )
    args = parser.parse_args()
    tunables = as_in_the_image()

    busy = machine_idle_check()
    if busy > 0.10:
        print(f"warning: {100 * busy:.0f}% of the CPUs were busy before the run", file=sys.stderr)

    # argon2 alone before the server and again after it, like liveness: the
    # reference moved by a third between runs on a shared machine.
    argon2 = [argon2_alone(args.seconds)]
    port = free_port()  # the wallet messages name the server's host:port
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = bench_wallets.app_env(database_url, redis, port)
        manage(env, "migrate", "--noinput")
        manage(env, "createsuperuser", "--noinput")
        with gunicorn(env, workers=WORKERS, port=port) as server:
            rounds = []
            for _ in range(args.rounds):
                rows, rss = drive(server, args)
                rounds.append(rows)
        # Second factors beside their floors, on bench_floor.py's server
        # (floor_urls.py's endpoints added), then the access-token GET on a
        # server under the jwt strategy (bench_tokens.py): same database.
        mfa_env = bench_mfa.app_env(env)
        with gunicorn(mfa_env, workers=WORKERS) as server:
            for rows in rounds:
                rows += [from_load(r) for r in bench_mfa.drive(server, mfa_env, args)]
        with gunicorn(bench_tokens.app_env(env), workers=WORKERS) as server:
            for rows in rounds:
                rows += [from_load(r) for r in bench_tokens.drive(server, args)]
    argon2 += [argon2_alone(args.seconds) for _ in range(args.rounds)]
    print(
        "argon2 alone, before and after the server: "
        + ", ".join(f"{rate:.1f}/s ({cpu:.1f} ms CPU)" for rate, cpu in argon2)
    )
    print(f"GLIBC_TUNABLES={tunables} (docker/Dockerfile's unless set)")
    rates, cpus = zip(*argon2, strict=True)
    report(median_rows(rounds), rss, (statistics.median(rates), statistics.median(cpus)), args)


if __name__ == "__main__":
    main()
