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
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.wallets.conftest: wallets that sign

from _util import (  # noqa: E402
    Server,
    cpu_seconds,
    free_port,
    gunicorn,
    machine_busy_seconds,
    manage,
    postgres_backends,
    print_table,
    redis_url,
    request,
    throwaway_database,
)

from tests.wallets.conftest import CosmosWallet, EvmWallet, SolanaWallet  # noqa: E402

API = "/_allauth/app/v1"
FAMILIES = {"evm": EvmWallet, "solana": SolanaWallet, "cosmos": CosmosWallet}
WALLETS_PER_FAMILY = 16
TARGETS = {"challenge": 0.65, "verify": 0.30}
# args: method, a file of JSON bodies or "-", "cycle" or "once". In "once"
# mode each body is sent once and the thread stops when they run out: a
# reused nonce answers a cheap 400 and would flatter the rate.
LUA = """
local method, bodies, index, once = "GET", {}, 0, false
function init(args)
  method, once = args[1], args[3] == "once"
  if args[2] ~= "-" then
    for line in io.lines(args[2]) do bodies[#bodies + 1] = line end
  end
end
function request()
  if #bodies == 0 then return wrk.format(method) end
  index = index + 1
  if index > #bodies then
    if once then wrk.thread:stop() end
    index = once and #bodies or 1
  end
  return wrk.format(method, nil, {["Content-Type"] = "application/json"}, bodies[index])
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms: float  # gunicorn workers + PostgreSQL backends, per request
    machine_busy: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _latency(output: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run(name: str, server: Server, path: str, args, *, seconds: int, **load) -> Run:
    """wrk against `path`: load = method, bodies (a JSONL file), once."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-s"]
    cmd += [script.name, server.url + path, "--", load.get("method", "GET")]
    cmd += [load.get("bodies", "-"), "once" if load.get("once") else "cycle"]
    pids = server.workers + postgres_backends(server.database_url)
    cpu_before, busy_before, start = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    output = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - start
    os.unlink(script.name)
    done = re.search(r"(\d+) requests in ([\d.]+)s", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = (int(non2xx.group(1)) if non2xx else 0) + sum(
        map(int, sockets.groups() if sockets else ())
    )
    requests = int(done.group(1))
    return Run(
        name=name,
        requests=requests,
        seconds=float(done.group(2)),
        p50_ms=_latency(output, "50"),
        p99_ms=_latency(output, "99"),
        errors=errors,
        server_cpu_ms=1000 * (cpu_seconds(pids) - cpu_before) / max(requests, 1),
        machine_busy=(machine_busy_seconds() - busy_before) / elapsed / (os.cpu_count() or 1),
    )


def measured(name: str, server: Server, path: str, args, **load) -> Run:
    run(name, server, path, args, seconds=2, **load)  # warm-up: imports, connections
    return run(name, server, path, args, seconds=args.seconds, **load)


def app_env(database_url: str, redis: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "REDIS_KEY_PREFIX": "signet-bench",
        "ACCOUNT_RATE_LIMITS": "off",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "WALLET_DOMAINS": f"127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }


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


def drive_family(server: Server, family: str, args) -> list[Run]:
    wallets = [FAMILIES[family]() for _ in range(WALLETS_PER_FAMILY)]
    for wallet in wallets:  # the first sign-in creates the user
        request(
            server.url + API + "/auth/wallet/verify", "POST", signed_verify_body(server, wallet)
        )
    files = [write_bodies([challenge_body(w) for w in wallets])]
    try:
        path = API + "/auth/wallet/challenge"
        challenge = measured(
            f"challenge {family}", server, path, args, method="POST", bodies=files[0]
        )
        path, load = API + "/auth/wallet/verify", {"method": "POST", "once": True}
        files.append(signed_bodies(server, wallets, 1500))
        rate = run(f"verify {family}", server, path, args, seconds=2, bodies=files[-1], **load).rps
        files.append(signed_bodies(server, wallets, int(rate * args.seconds * 1.3) + 100))
        verify = run(
            f"verify {family}", server, path, args, seconds=args.seconds, bodies=files[-1], **load
        )
    finally:
        for name in files:
            os.unlink(name)
    return [challenge, verify]


def report(runs: list[Run], live: Run, args) -> None:
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

    port = free_port()  # the messages name the server's host:port: pick it first
    with throwaway_database() as database_url, redis_url(args.redis_db) as redis:
        env = app_env(database_url, redis, port)
        manage(env, "migrate", "--noinput")
        with gunicorn(env, workers=2, port=port) as server:
            live = measured("liveness", server, "/health/live", args)
            runs = [r for family in FAMILIES for r in drive_family(server, family, args)]
            live_after = measured("liveness (again)", server, "/health/live", args)
    report([live, *runs, live_after], live, args)


if __name__ == "__main__":
    main()
