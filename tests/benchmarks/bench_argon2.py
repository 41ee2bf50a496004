"""Argon2id cost per parameter set: hash and verify time, and verifies/s on N cores.

    .venv/bin/python tests/benchmarks/bench_argon2.py [--seconds 5] [--procs 2]

Single-call figures are medians of `--rounds` calls; "CPU" is process time,
which exceeds wall time when p > 1 (libargon2 runs the lanes on threads).
The throughput column runs one verifying process per core for `--seconds`,
which is what a server with that many sync workers can at most sustain.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher, Type

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Params:
    name: str
    memory_kib: int
    time_cost: int
    parallelism: int

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )


PARAMS = [
    Params("Django default", 100 * 1024, 2, 8),
    Params("OWASP (configured)", 19 * 1024, 2, 1),
    Params("OWASP m=46MiB t=1", 46 * 1024, 1, 1),
    Params("OWASP m=12MiB t=3", 12 * 1024, 3, 1),
    Params("OWASP m=9MiB t=4", 9 * 1024, 4, 1),
]


def configured() -> Params:
    """The parameters of accounts.hashers.SignetArgon2PasswordHasher."""
    from accounts.hashers import SignetArgon2PasswordHasher as H

    return Params("configured", H.memory_cost, H.time_cost, H.parallelism)


def _timed(fn, rounds: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn()`."""
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return 1000 * statistics.median(walls), 1000 * statistics.median(cpus)


def _verify_loop(params: Params, encoded: str, seconds: float) -> int:
    hasher, count = params.hasher(), 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        hasher.verify(encoded, PASSWORD)
        count += 1
    return count


def verify_rate(params: Params, procs: int, seconds: float) -> float:
    """Verifies per second with `procs` processes verifying flat out."""
    encoded = params.hasher().hash(PASSWORD)
    with ProcessPoolExecutor(procs) as pool:
        pool.submit(_verify_loop, params, encoded, 0.2).result()  # fork and warm up
        start = time.perf_counter()
        futures = [pool.submit(_verify_loop, params, encoded, seconds) for _ in range(procs)]
        total = sum(f.result() for f in futures)
        return total / (time.perf_counter() - start)


def _faults(fn, rounds: int = 5) -> float:
    """Minor page faults per call: above glibc's 32 MiB mmap threshold cap every
    call maps fresh memory, and the faults (system time) can double the cost."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / rounds


def verify_cpu_ms(params: Params, rounds: int = 15) -> float:
    """Median CPU ms of one verify: steady even when other load steals the cores."""
    hasher = params.hasher()
    encoded = hasher.hash(PASSWORD)
    return _timed(lambda: hasher.verify(encoded, PASSWORD), rounds)[1]


def measure(params: Params, *, rounds: int, procs: int, seconds: float) -> list[object]:
    hasher = params.hasher()
    encoded = hasher.hash(PASSWORD)
    hash_wall, _ = _timed(lambda: hasher.hash(PASSWORD), rounds)
    verify_wall, verify_cpu = _timed(lambda: hasher.verify(encoded, PASSWORD), rounds)
    faults = _faults(lambda: hasher.verify(encoded, PASSWORD))
    rate = verify_rate(params, procs, seconds)
    return [
        params.name,
        f"m={params.memory_kib // 1024}MiB t={params.time_cost} p={params.parallelism}",
        f"{hash_wall:.1f}",
        f"{verify_wall:.1f}",
        f"{verify_cpu:.1f}",
        f"{faults:.0f}",
        f"{1000 / verify_wall:.1f}",
        f"{rate:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from _util import as_in_the_image, print_table

    tunables = as_in_the_image()

    rows = [measure(p, rounds=args.rounds, procs=args.procs, seconds=args.seconds) for p in PARAMS]
    print(f"argon2id, {os.cpu_count()} CPUs; medians of {args.rounds} calls, ms")
    print(f"GLIBC_TUNABLES={tunables}")
    print_table(
        [
            "set",
            "params",
            "hash ms",
            "verify ms",
            "verify CPU ms",
            "page faults/verify",
            "verifies/s (1 call at a time)",
            f"verifies/s ({args.procs} procs)",
        ],
        rows,
    )


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo, for accounts
    main()
