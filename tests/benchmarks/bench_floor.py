"""The floor: the least each measured endpoint could cost on this stack.

    .venv/bin/python tests/benchmarks/bench_floor.py [--seconds 10] [--rounds 1]

run_all.py's server (2 sync workers, the same settings and middleware) with
the what-if endpoints of floor_urls.py added: each does only the work its
endpoint cannot skip (parse, one Redis command, the signature or argon2, the
sign-in's writes in one hand-written SQL statement), with no DRF, no ORM and
no validation. Each is driven right after Signet's own endpoint, in the same
run, and held to the same target (the second factors, bench_mfa.py's, are
held to 0.8 x their floor): a floor below its target is a target that
no implementation on Django + PostgreSQL + Redis reaches, whatever the code;
a floor above it shows how much of the gap is the code's. The EVM family
stands for the three (its verify is the middle one in run_all.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo

import bench_mfa
import bench_wallets
from _util import (
    as_in_the_image,
    free_port,
    gunicorn,
    manage,
    redis_url,
    request,
    throwaway_database,
    warmed_wrk,
)
from bench_accounts import API, EMAIL, PASSWORD
from run_all import argon2_alone, from_load, median_rows, report

from tests.wallets.conftest import EvmWallet


def drive(server, env, args) -> list:
    """Each endpoint, Signet's then its floor, between two liveness runs."""
    load = {"server": server, "seconds": args.seconds, "connections": args.connections}
    post = {**load, "method": "POST"}
    credentials = {"email": EMAIL, "password": PASSWORD}
    token = request(server.url + API + "/auth/login", "POST", credentials)["meta"]
    floor_token = request(server.url + "/floor/login", "POST", credentials)["meta"]
    wallet = EvmWallet()
    signed = bench_wallets.signed_verify_body(server, wallet)
    request(server.url + API + "/auth/wallet/verify", "POST", signed)  # the wallet's user
    challenge = bench_wallets.challenge_body(wallet)
    verify = {"message": signed["message"], "signature": signed["signature"]}
    url, app = server.url, server.url + API
    signet_challenge, signet_verify = bench_wallets.drive_family(server, "evm", args)
    results = [
        warmed_wrk("liveness", url + "/health/live", **load),
        warmed_wrk("login", app + "/auth/login", body=credentials, **post),
        warmed_wrk("login (floor)", url + "/floor/login", body=credentials, **post),
        warmed_wrk("session", app + "/auth/session",
                   headers={"X-Session-Token": token["session_token"]}, **load),
        warmed_wrk("session (floor)", url + "/floor/session",
                   headers={"X-Session-Token": floor_token["session_token"]}, **load),
        signet_challenge,
        warmed_wrk("challenge (floor)", url + "/floor/challenge", body=challenge, **post),
        signet_verify,
        warmed_wrk("verify (floor)", url + "/floor/verify", body=verify, **post),
        *bench_mfa.drive(server, env, args),  # each second factor, then its floor
        warmed_wrk("liveness (again)", url + "/health/live", **load),
    ]  # fmt: skip
    return [from_load(r) for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    tunables = as_in_the_image()

    argon2 = [argon2_alone(args.seconds)]
    port = free_port()
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = bench_mfa.app_env(bench_wallets.app_env(database_url, redis, port))
        manage(env, "migrate", "--noinput")
        manage(env, "createsuperuser", "--noinput")
        with gunicorn(env, workers=2, port=port) as server:
            rounds = [drive(server, env, args) for _ in range(args.rounds)]
    argon2 += [argon2_alone(args.seconds) for _ in range(args.rounds)]
    print(f"GLIBC_TUNABLES={tunables}; floor_urls.py's endpoints, not Signet's")
    rates, cpus = zip(*argon2, strict=True)
    # No RSS line: these workers serve endpoints Signet does not have.
    report(median_rows(rounds), [], (statistics.median(rates), statistics.median(cpus)), args)


if __name__ == "__main__":
    main()
