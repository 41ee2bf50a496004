"""Second factors under load: completing a sign-in with TOTP and with WebAuthn,
each beside its floor.

    .venv/bin/python tests/benchmarks/bench_mfa.py [--seconds 10] [--connections 4]

The server of bench_floor.py (2 sync workers, floor_urls.py's endpoints added,
WEBAUTHN_RP_ID/ORIGINS those of tests/accounts/mfa/webauthn_client.py's
SoftKey). Every request completes a sign-in of its own: a password login of a
user with a second factor left it pending at `mfa_authenticate` (401) before
the timing, and the request carries that session's token (X-Session-Token,
per request: _util.wrk's `header`) and the second factor:

- **TOTP** (`POST /auth/2fa/authenticate {code}`): the code of the current
  time step, computed with pyotp right before the run. A code is accepted once
  per user and step (a replay is refused), so each request has a user of its
  own: thousands, made with the ORM in bulk (mfa_setup.py).
- **WebAuthn** (`POST /auth/webauthn/authenticate {credential}`, allauth's
  second-factor ceremony): an assertion made with SoftKey (real P-256
  signatures) over the challenge that `GET /auth/webauthn/authenticate` gave
  that pending session. 64 users, one key each; the assertions are signed in
  the order they are sent, so each key's counter moves forward.

The floors (`/floor/mfa/totp`, `/floor/mfa/webauthn`) complete the same kind
of pending sign-in with one Redis GETDEL, the check (Fernet and the HMAC; the
assertion's checks and signature), the sign-in's writes with the factor's
counter in one SQL statement, and the session's copy in Redis. Each pending
state is made by `/floor/mfa/begin`, untimed. Target: each >= 0.8 x its floor.
A 2 s warm-up per scenario (its own requests) loads lazy imports and sizes the
measured batch (rate x seconds x 1.3).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo

import pyotp
from _util import (
    LoadResult,
    as_in_the_image,
    free_port,
    gunicorn,
    manage,
    profiled,
    redis_url,
    wrk,
)
from bench_accounts import API, PASSWORD
from fido2.cose import ES256
from fido2.utils import websafe_encode
from fido2.webauthn import AttestedCredentialData

from tests.accounts.mfa.webauthn_client import ORIGIN, RP_ID, SoftKey

TARGETS = {"totp 2fa": 0.8, "webauthn 2fa": 0.8}  # x the floor, same run
KEYS = 64  # WebAuthn users; each key signs its assertions in the order they are sent
TOKEN = "X-Session-Token"
_batches = iter(range(1_000_000))  # distinct emails across calls in one database


def app_env(base: dict[str, str]) -> dict[str, str]:
    """bench_floor.py's server, with the SoftKey's RP id and origin."""
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "tests.benchmarks.floor_settings",
        "WEBAUTHN_RP_ID": RP_ID,
        "WEBAUTHN_ORIGINS": ORIGIN,
    }


def call(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    """(status, JSON) of a request, 4xx included (a pending sign-in is a 401)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({TOKEN: token} if token else {})}
    req = urllib.request.Request(url, data, headers, method="GET" if body is None else "POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def create_users(env: dict[str, str], users: list[dict]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"password": PASSWORD, "users": users}, spec)
    try:
        code = "from tests.benchmarks.mfa_setup import create; create()"
        manage({**env, "BENCH_MFA_SPEC": spec.name}, "shell", "-c", code)
    finally:
        os.unlink(spec.name)


def totp_users(env: dict[str, str], count: int) -> list[tuple[str, str]]:
    batch = next(_batches)
    users = [(f"totp{batch}-{i}@bench.example.com", pyotp.random_base32(32)) for i in range(count)]
    create_users(env, [{"email": email, "totp": secret} for email, secret in users])
    return users


def pending_signin(server, email: str) -> str:
    """A password login stopped at the second factor: its session token."""
    status, data = call(server.url + API + "/auth/login", {"email": email, "password": PASSWORD})
    flows = {f["id"]: f for f in data.get("data", {}).get("flows", [])}
    if status != 401 or not flows.get("mfa_authenticate", {}).get("is_pending"):
        raise RuntimeError(f"login of {email} is not pending at mfa_authenticate: {data}")
    return data["meta"]["session_token"]


def floor_pending(server, email: str) -> tuple[str, dict]:
    data = call(server.url + "/floor/mfa/begin", {"email": email})[1]
    return data["meta"]["session_token"], data["data"]


def parallel(function, items: list) -> list:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(function, items))


def write_requests(pairs: list[tuple[str, dict]]) -> str:
    """One "<token>\\t<body>" line per request (_util.wrk's `header`)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as file:
        file.write("".join(f"{token}\t{json.dumps(body)}\n" for token, body in pairs))
    return file.name


def totp_requests(server, env, count: int, floor: bool) -> str:
    users = totp_users(env, count)
    if floor:
        tokens = [t for t, _ in parallel(lambda u: floor_pending(server, u[0]), users)]
    else:
        tokens = parallel(lambda u: pending_signin(server, u[0]), users)
    # Codes of the current step, computed last: each stays valid for the
    # rest of this step and the next (one step of tolerance), 30 s at least.
    return write_requests(
        [
            (token, {"code": pyotp.TOTP(secret).now()})
            for token, (_, secret) in zip(tokens, users, strict=True)
        ]
    )


def webauthn_users(env: dict[str, str]) -> list[tuple[str, SoftKey]]:
    batch = next(_batches)
    users = [(f"webauthn{batch}-{i}@bench.example.com", SoftKey()) for i in range(KEYS)]
    spec = []
    for email, key in users:
        cose = ES256.from_cryptography_key(key.private.public_key())
        attested = AttestedCredentialData.create(b"\0" * 16, key.credential_id, cose)
        spec.append(
            {
                "email": email,
                "webauthn": websafe_encode(bytes(attested)),
                "credential_id": websafe_encode(key.credential_id),
            }
        )
    create_users(env, spec)
    return users


def webauthn_requests(server, users: list[tuple[str, SoftKey]], count: int, floor: bool) -> str:
    picks = [users[i % len(users)] for i in range(count)]

    def pending(user) -> tuple[str, dict]:
        if floor:
            token, data = floor_pending(server, user[0])
        else:
            token = pending_signin(server, user[0])
            data = call(server.url + API + "/auth/webauthn/authenticate", token=token)[1]["data"]
        return token, data["request_options"]

    challenges = parallel(pending, picks)
    # Signed in the order sent: a key's counter only moves forward.
    return write_requests(
        [
            (token, {"credential": key.get(options)})
            for (token, options), (_, key) in zip(challenges, picks, strict=True)
        ]
    )


def measure(name: str, url: str, make, *, server, args, warm: int) -> LoadResult:
    """A 2 s warm-up on `warm` requests of its own, then a batch sized by its
    rate, each request sent once (a spent code or challenge would answer a
    cheap 4xx). wrk counts the whole duration: a batch that ran out would
    understate the rate, so that is an error."""
    load = {"server": server, "connections": args.connections, "method": "POST", "once": True}
    files = [make(warm)]
    try:
        warmup = wrk(name, url, seconds=2, bodies=files[0], header=TOKEN, **load)
        if warmup.requests >= warm:
            raise RuntimeError(f"{name}: the warm-up's {warm} requests ran out before 2 s")
        size = int(warmup.rps * args.seconds * 1.3) + 100
        files.append(make(size))
        with profiled(name, server, args):
            result = wrk(name, url, seconds=args.seconds, bodies=files[1], header=TOKEN, **load)
        if result.requests >= size:
            raise RuntimeError(f"{name}: the batch of {size} ran out before {args.seconds} s")
        return result
    finally:
        for path in files:
            os.unlink(path)


def drive(server, env: dict[str, str], args) -> list[LoadResult]:
    """TOTP then its floor, WebAuthn then its floor."""
    keys = webauthn_users(env)
    app, floor = server.url + API, server.url + "/floor/mfa"
    common = {"server": server, "args": args}
    return [
        measure("totp 2fa", app + "/auth/2fa/authenticate", warm=600,
                make=lambda n: totp_requests(server, env, n, False), **common),
        measure("totp 2fa (floor)", floor + "/totp", warm=2000,
                make=lambda n: totp_requests(server, env, n, True), **common),
        measure("webauthn 2fa", app + "/auth/webauthn/authenticate", warm=600,
                make=lambda n: webauthn_requests(server, keys, n, False), **common),
        measure("webauthn 2fa (floor)", floor + "/webauthn", warm=2000,
                make=lambda n: webauthn_requests(server, keys, n, True), **common),
    ]  # fmt: skip


def main() -> None:
    import bench_wallets
    from _util import throwaway_database, warmed_wrk
    from run_all import from_load, report

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--profile", choices=list(TARGETS), help="py-spy during this scenario")
    args = parser.parse_args()
    args.rounds = 1
    as_in_the_image()

    port = free_port()
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = app_env(bench_wallets.app_env(database_url, redis, port))
        manage(env, "migrate", "--noinput")
        with gunicorn(env, workers=2, port=port) as server:
            load = {"server": server, "seconds": args.seconds, "connections": args.connections}
            live = server.url + "/health/live"
            results = [warmed_wrk("liveness", live, **load), *drive(server, env, args)]
            results.append(warmed_wrk("liveness (again)", live, **load))
    report([from_load(r) for r in results], [], None, args)


if __name__ == "__main__":
    main()
