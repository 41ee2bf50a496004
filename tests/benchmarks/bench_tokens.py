"""The authenticated GET with an access token, beside the session-token GET.

    .venv/bin/python tests/benchmarks/bench_tokens.py [--seconds 10] [--connections 4]

bench_accounts.py's server under `SIGNET_TOKEN_STRATEGY=jwt` (its ES256 key
derived from the secret key, as local settings do): the bench user signs in
by password, which answers a session token, an access token and a refresh
token. Then, on that one server, `GET /_allauth/app/v1/auth/session` with
`X-Session-Token` (the session read from Redis, the user from the cache) and
the same GET with `Authorization: Bearer <access token>` (the signature and
claims checked, no session read). Target: the access-token GET >= 1.5 x the
session-token GET. Beside them, floor_urls.py's `/floor/token`: the same
token checked by Signet's own decode and `sub` answered, no user read at all:
what a GET that needs only the user's id costs. The token lives
JWT_ACCESS_TOKEN_LIFETIME (300 s): each call of drive() signs in again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo

from _util import (
    LoadResult,
    as_in_the_image,
    gunicorn,
    manage,
    profiled,
    redis_url,
    request,
    throwaway_database,
    warmed_wrk,
    wrk,
)
from bench_accounts import API, EMAIL, PASSWORD
from bench_accounts import app_env as accounts_env

SESSION, ACCESS = "jwt: session GET", "jwt: access-token GET"
FLOOR = "jwt: access-token (floor)"


def app_env(base: dict[str, str]) -> dict[str, str]:
    """bench_floor.py's server (floor_urls.py's /floor/token added) under jwt."""
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.floor_settings",
        "SIGNET_TOKEN_STRATEGY": "jwt",
    }


def drive(server, args) -> list[LoadResult]:
    credentials = {"email": EMAIL, "password": PASSWORD}
    meta = request(server.url + API + "/auth/login", "POST", credentials)["meta"]
    if not meta.get("access_token"):
        raise RuntimeError(f"no access token: is SIGNET_TOKEN_STRATEGY=jwt? {meta}")
    url = server.url + API + "/auth/session"
    load = {"server": server, "seconds": args.seconds, "connections": args.connections}
    bearer = {"Authorization": f"Bearer {meta['access_token']}"}
    scenarios = [
        (SESSION, url, {"X-Session-Token": meta["session_token"]}),
        (ACCESS, url, bearer),
        (FLOOR, server.url + "/floor/token", bearer),
    ]
    results = []
    for name, url, headers in scenarios:
        wrk(name, url, **{**load, "seconds": 2}, headers=headers)  # warm-up
        with profiled(name, server, args):
            results.append(wrk(name, url, **load, headers=headers))
    return results


def main() -> None:
    from run_all import from_load, report

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=8)
    parser.add_argument("--profile", choices=[SESSION, ACCESS, FLOOR], help="py-spy during it")
    args = parser.parse_args()
    args.rounds = 1
    as_in_the_image()

    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = app_env(accounts_env(database_url, redis))
        manage(env, "migrate", "--noinput")
        manage(env, "createsuperuser", "--noinput")
        with gunicorn(env, workers=2) as server:
            load = {"server": server, "seconds": args.seconds, "connections": args.connections}
            live = server.url + "/health/live"
            results = [warmed_wrk("liveness", live, **load), *drive(server, args)]
            results.append(warmed_wrk("liveness (again)", live, **load))
    report([from_load(r) for r in results], [], None, args)


if __name__ == "__main__":
    main()
