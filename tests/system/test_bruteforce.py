"""Password guessing at scale: 1,000 wrong passwords against one account, from
one IP and from a thousand, are cut down to what ACCOUNT_RATE_LIMITS allows,
refused with 429 + Retry-After, and the owner gets in once the window passes.

The limits use 10-second windows so the test waits seconds, not minutes. A
fixed window starts at its first attempt, so a run lasting `elapsed` seconds
spans at most `elapsed // WINDOW + 1` of them.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus

import pytest

from tests.system._client import PASSWORD, ApiClient
from tests.system._servers import HOST, SignetServer

WINDOW = 10
PER_IP = 10  # wrong passwords per IP per window
PER_ACCOUNT = 5  # wrong passwords per account per window
ATTEMPTS = 1000
THREADS = 3  # one per gunicorn worker: more only adds client overhead


@pytest.fixture(scope="module")
def server(signet_server) -> SignetServer:
    rates = f"login=30/{WINDOW}s/ip;login_failed={PER_IP}/{WINDOW}s/ip,{PER_ACCOUNT}/{WINDOW}s/key"
    # One trusted proxy: the client IP is the last X-Forwarded-For entry.
    return signet_server(
        ACCOUNT_EMAIL_VERIFICATION="none", ACCOUNT_RATE_LIMITS=rates, TRUSTED_PROXY_COUNT="1"
    )


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    retry_after: str | None


def _login(server: SignetServer, email: str, password: str, ip: str) -> Answer:
    # http.client rather than requests: at a thousand attempts its lower
    # overhead is what keeps each attack inside one rate-limit window.
    conn = http.client.HTTPConnection(HOST, server.port, timeout=15)
    try:
        conn.request(
            "POST",
            "/_allauth/app/v1/auth/login",
            body=json.dumps({"email": email, "password": password}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": ip},
        )
        response = conn.getresponse()
        return Answer(
            response.status, json.loads(response.read()), response.getheader("Retry-After")
        )
    finally:
        conn.close()


def _attack(attempt: Callable[[int], Answer]) -> tuple[list[Answer], float]:
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(attempt, range(ATTEMPTS)))
    return answers, time.monotonic() - started


def _checked(answers: list[Answer]) -> int:
    """How many guesses reached the password check; every other one must be a
    well-formed 429 saying when to come back."""
    checked = 0
    for answer in answers:
        if answer.status == HTTPStatus.BAD_REQUEST:
            assert answer.body["errors"][0]["code"] == "email_password_mismatch"
            checked += 1
            continue
        assert answer.status == HTTPStatus.TOO_MANY_REQUESTS, answer
        assert answer.body == {
            "status": 429,
            "errors": [{"code": "rate_limited", "message": "Too many attempts; try again later."}],
        }
        assert 1 <= int(answer.retry_after) <= WINDOW
    return checked


def _windows(elapsed: float) -> int:
    return int(elapsed // WINDOW) + 1


def _signed_up(server: SignetServer, email: str) -> str:
    assert ApiClient(server).signup(email).status_code == HTTPStatus.OK
    return email


def _ip(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def test_guessing_is_limited_per_account_and_per_ip_and_the_owner_gets_back_in(server):
    victim = _signed_up(server, "victim@example.com")
    other = _signed_up(server, "other@example.com")

    # One IP, one account: the account's limit is the tighter one.
    answers, elapsed = _attack(lambda i: _login(server, victim, f"guess {i}", "198.51.100.1"))
    assert PER_ACCOUNT <= _checked(answers) <= PER_ACCOUNT * _windows(elapsed)
    # While locked, even the right password is refused: a guess cannot be confirmed.
    locked = [_login(server, victim, PASSWORD, "203.0.113.1")]
    assert locked[0].status == HTTPStatus.TOO_MANY_REQUESTS

    # A thousand IPs, one account: changing address does not help.
    answers, elapsed = _attack(lambda i: _login(server, other, f"guess {i}", _ip(i)))
    assert PER_ACCOUNT <= _checked(answers) <= PER_ACCOUNT * _windows(elapsed)
    locked.append(_login(server, other, PASSWORD, "203.0.113.2"))
    assert locked[1].status == HTTPStatus.TOO_MANY_REQUESTS

    # One IP, a thousand accounts (credential stuffing): the IP's limit holds.
    answers, elapsed = _attack(
        lambda i: _login(server, f"user{i}@example.com", PASSWORD, "198.51.100.2")
    )
    assert PER_IP <= _checked(answers) <= PER_IP * _windows(elapsed)

    # Once the windows have passed, the owners sign in from where the attacks came.
    time.sleep(max(int(answer.retry_after) for answer in locked) + 1)
    assert _login(server, victim, PASSWORD, "198.51.100.1").status == HTTPStatus.OK
    assert _login(server, other, PASSWORD, _ip(7)).status == HTTPStatus.OK
