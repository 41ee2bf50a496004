"""No timing oracle: login and password reset take as long for an address
that has an account as for one that has none.

Measured from outside, over real HTTP, as an attacker would. Known and unknown
requests alternate in a shuffled order (drift in machine load hits both
alike), after a warm-up, and medians are compared (a stray GC pause or
scheduler hiccup moves a mean, not a median).
"""

from __future__ import annotations

import random
import secrets
import statistics
import time
from collections.abc import Callable
from http import HTTPStatus

import pytest
import requests

from tests.system._client import ApiClient
from tests.system._servers import SignetServer

KNOWN = "known@example.com"
WARM_UP = 20
MAX_RELATIVE_GAP = 0.10


@pytest.fixture(scope="module")
def server(signet_server) -> SignetServer:
    # No rate limits: hundreds of tries from one address is the point.
    server = signet_server(ACCOUNT_EMAIL_VERIFICATION="none", ACCOUNT_RATE_LIMITS="off")
    assert ApiClient(server).signup(KNOWN).status_code == HTTPStatus.OK
    return server


def _unknown() -> str:
    return f"nobody-{secrets.token_hex(6)}@example.com"


def _medians(
    send: Callable[[str], requests.Response], expected: int, pairs: int
) -> tuple[float, float]:
    """Median seconds for the known address and for fresh unknown ones."""
    timings: dict[bool, list[float]] = {True: [], False: []}
    rng = random.Random(5)  # a fixed order: reproducible runs
    for round_ in range(WARM_UP + pairs):
        order = [True, False]
        rng.shuffle(order)
        for known in order:
            email = KNOWN if known else _unknown()
            started = time.perf_counter()
            response = send(email)
            elapsed = time.perf_counter() - started
            assert response.status_code == expected, response.text
            if round_ >= WARM_UP:
                timings[known].append(elapsed)
    return statistics.median(timings[True]), statistics.median(timings[False])


def _gap(known: float, unknown: float) -> float:
    return abs(known - unknown) / min(known, unknown)


def test_login_takes_as_long_for_an_unknown_email(server):
    http = requests.Session()
    url = server.api("app", "/auth/login")

    def send(email: str) -> requests.Response:
        return http.post(url, json={"email": email, "password": "not the password"}, timeout=15)

    known, unknown = _medians(send, HTTPStatus.BAD_REQUEST, pairs=150)

    assert _gap(known, unknown) < MAX_RELATIVE_GAP, (known, unknown)


def test_password_reset_takes_as_long_for_an_unknown_email(server):
    http = requests.Session()
    url = server.api("app", "/auth/password/request")

    def send(email: str) -> requests.Response:
        return http.post(url, json={"email": email}, timeout=15)

    known, unknown = _medians(send, HTTPStatus.OK, pairs=200)

    assert _gap(known, unknown) < MAX_RELATIVE_GAP, (known, unknown)


def test_a_login_code_request_takes_as_long_for_an_unknown_email(signet_server):
    """Known: a code issued and mailed; unknown: a code issued and the note mailed."""
    server = signet_server(
        ACCOUNT_EMAIL_VERIFICATION="none",
        ACCOUNT_RATE_LIMITS="off",
        ACCOUNT_LOGIN_BY_CODE_ENABLED="true",
    )
    assert ApiClient(server).signup(KNOWN).status_code == HTTPStatus.OK
    url = server.api("app", "/auth/code/request")

    def send(email: str) -> requests.Response:
        return requests.post(url, json={"email": email}, timeout=15)  # a fresh session each

    known, unknown = _medians(send, HTTPStatus.UNAUTHORIZED, pairs=150)

    assert _gap(known, unknown) < MAX_RELATIVE_GAP, (known, unknown)
