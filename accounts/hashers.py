"""Argon2id at parameters chosen by benchmark (tests/benchmarks/bench_argon2.py).

Django's default (m=100 MiB, t=2, p=8) costs several times the CPU per hash of
OWASP's minimum for Argon2id, m=19 MiB, t=2, p=1, which Signet uses (the
figures: tests/benchmarks/README.md). Hashes made with other parameters verify as usual
and are upgraded on the next successful login (Django calls must_update).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class SignetArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
