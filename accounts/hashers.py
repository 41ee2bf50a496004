"""Argon2id at parameters chosen by benchmark (tests/benchmarks/bench_argon2.py).

Django's default (m=100 MiB, t=2, p=8) costs ~285 ms of CPU per hash: a 2-core
box caps at 6-7 logins/s. OWASP's minimum for Argon2id is m=19 MiB, t=2, p=1,
which measured ~26 ms here. Hashes made with other parameters verify as usual
and are upgraded on the next successful login (Django calls must_update).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class SignetArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
