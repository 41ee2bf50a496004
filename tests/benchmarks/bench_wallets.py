"""Wallet sign-in under load: challenge and verify per chain family, against liveness.

    .venv/bin/python tests/benchmarks/bench_wallets.py [--seconds 10] [--connections 4]

Serves the app with gunicorn (2 sync workers, config.settings.local, DEBUG off,
rate limits off, WALLET_DOMAINS=127.0.0.1:<port>) against a throwaway
PostgreSQL database and a Redis DB index of its own, and drives it with wrk
(1 thread) over loopback. Challenge requests cycle through 16 addresses per
family (each answer is a new nonce in Redis). Verify requests each carry a
fresh challenge signed the way the family's wallets sign (eth-account, PyNaCl,
coincurve ADR-036: tests/wallets/conftest.py), made before the run and read by
the Lua script, one per request; the wallets signed in once before, so each
verify is a returning user's sign-in (a session written, the wallet touched).
A 2 s warm-up per scenario loads lazy imports in both workers; the verify
warm-up also sizes the batch of signed bodies for the measured run.

Throughput on a shared machine says little, so each scenario also reports the
CPU the server side spent per request (gunicorn workers + PostgreSQL
backends) and the ratio those costs give ("CPU ratio": what the throughput
ratio would be if the server had the cores to itself).
Targets (2 cores): challenge >= 0.65 x liveness; verify >= 0.30 x liveness.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.wallets.conftest: wallets that sign

from _util import (  # noqa: E402
    LoadResult,
    Server,
    as_in_the_image,
    free_port,
    gunicorn,
    manage,
    print_table,
    redis_url,
    request,
    throwaway_database,
    warmed_wrk,
    wrk,
)
from bench_accounts import API  # noqa: E402
from bench_accounts import app_env as accounts_env  # noqa: E402

from tests.wallets.conftest import CosmosWallet, EvmWallet, SolanaWallet  # noqa: E402

FAMILIES = {"evm": EvmWallet, "solana": SolanaWallet, "cosmos": CosmosWallet}
WALLETS_PER_FAMILY = 16
TARGETS = {"challenge": 0.65, "verify": 0.30}


def app_env(database_url: str, redis: str, port: int) -> dict[str, str]:
    """bench_accounts.py's server, naming its host:port as the wallet domain."""
    return {**accounts_env(database_url, redis), "WALLET_DOMAINS": f"127.0.0.1:{port}"}


def challenge_body(wallet) -> dict:
    return {"chain": wallet.chain, "address": wallet.address, "process": "login"}


def signed_verify_body(server: Server, wallet) -> dict:
    data = request(server.url + API + "/auth/wallet/challenge", "POST", challenge_body(wallet))
    message = data["data"]["message"]
    body = {"chain": wallet.chain, "address": wallet.address, "message": message}
    body["signature"] = wallet.sign(message)
    if wallet.public_key is not None:
        body["public_key"] = wallet.public_key
    return body


def write_bodies(bodies: list[dict]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as file:
        file.write("".join(json.dumps(body) + "\n" for body in bodies))
    return file.name


def signed_bodies(server: Server, wallets: list, count: int) -> str:
    with ThreadPoolExecutor(max_workers=4) as pool:
        picks = [wallets[i % len(wallets)] for i in range(count)]
        return write_bodies(list(pool.map(lambda w: signed_verify_body(server, w), picks)))


def drive_family(server: Server, family: str, args) -> list[LoadResult]:
    wallets = [FAMILIES[family]() for _ in range(WALLETS_PER_FAMILY)]
    for wallet in wallets:  # the first sign-in creates the user
        request(
            server.url + API + "/auth/wallet/verify", "POST", signed_verify_body(server, wallet)
        )
    load = {"server": server, "connections": args.connections, "method": "POST"}
    files = [write_bodies([challenge_body(w) for w in wallets])]
    try:
        url = server.url + API + "/auth/wallet/challenge"
        challenge = warmed_wrk(
            f"challenge {family}", url, seconds=args.seconds, bodies=files[0], **load
        )
        url, name = server.url + API + "/auth/wallet/verify", f"verify {family}"
        files.append(signed_bodies(server, wallets, 1500))
        rate = wrk(name, url, seconds=2, bodies=files[-1], once=True, **load).rps
        files.append(signed_bodies(server, wallets, int(rate * args.seconds * 1.3) + 100))
        verify = wrk(name, url, seconds=args.seconds, bodies=files[-1], once=True, **load)
    finally:
        for path in files:
            os.unlink(path)
    return [challenge, verify]


def report(runs: list[LoadResult], live: LoadResult, args) -> None:
    load = f"wrk 1 thread x {args.connections} connections, {args.seconds}s each"
    print(f"\n2 gunicorn sync workers; {load}")
    rows = []
    for r in runs:
        kind = r.name.split()[0]
        ratio, cpu_ratio = r.rps / live.rps, live.server_cpu_ms / r.server_cpu_ms
        target = TARGETS.get(kind)
        verdict = "" if target is None else ("OK" if min(ratio, cpu_ratio) >= target else "MISSED")
        rows.append(
            [r.name, f"{r.rps:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.errors,
             f"{r.server_cpu_ms:.2f}", f"{ratio:.2f}", f"{cpu_ratio:.2f}",
             f">= {target}" if target else "", verdict, f"{100 * r.machine_busy:.0f}%"]
        )  # fmt: skip
    headers = ["scenario", "req/s", "p50 ms", "p99 ms", "errors", "server CPU ms/req"]
    headers += ["x liveness", "CPU ratio", "target", "", "cores busy"]
    print_table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    as_in_the_image()

    port = free_port()  # the messages name the server's host:port: pick it first
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = app_env(database_url, redis, port)
        manage(env, "migrate", "--noinput")
        with gunicorn(env, workers=2, port=port) as server:
            live_url = server.url + "/health/live"
            load = {"server": server, "seconds": args.seconds, "connections": args.connections}
            live = warmed_wrk("liveness", live_url, **load)
            runs = [r for family in FAMILIES for r in drive_family(server, family, args)]
            live_after = warmed_wrk("liveness (again)", live_url, **load)
    report([live, *runs, live_after], live, args)


if __name__ == "__main__":
    main()
