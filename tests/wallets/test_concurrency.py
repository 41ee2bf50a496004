"""Races, with real threads against real Redis and PostgreSQL (committed data)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.db import connection

from accounts.models import User
from tests.conftest import HeadlessClient
from tests.wallets.helpers import issue, verify
from wallets.challenges import challenge_consume
from wallets.flows.challenge import wallet_challenge_issue
from wallets.models import Wallet

RACERS = 50

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = "off"  # fifty requests from one IP are the point here


def race(count: int, work: Callable[[int], object]) -> list:
    """Run `work(i)` in `count` threads released at the same instant."""
    start = threading.Barrier(count)

    def run(index: int):
        try:
            start.wait()
            return work(index)
        finally:
            connection.close()  # each thread has its own database connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_one_consumer_wins_the_store(evm_wallet):
    issued, _message = wallet_challenge_issue(
        process="login", chain=evm_wallet.chain, address=evm_wallet.address
    )
    results = race(RACERS, lambda _i: challenge_consume(issued.nonce))
    winners = [r for r in results if r is not None]
    assert winners == [issued]


def test_fifty_verifies_of_one_nonce_sign_in_once(any_wallet):
    message = issue(HeadlessClient("app"), any_wallet)["message"]
    clients = [HeadlessClient("app") for _ in range(RACERS)]
    responses = race(RACERS, lambda i: verify(clients[i], any_wallet, message))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {HTTPStatus.OK: 1, HTTPStatus.BAD_REQUEST: RACERS - 1}
    codes = {r.json()["errors"][0]["code"] for r in responses if r.status_code != HTTPStatus.OK}
    assert codes == {"challenge_not_found"}
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def test_one_new_wallet_signing_in_many_times_at_once_is_one_user(solana_wallet):
    count = 10
    clients = [HeadlessClient("app") for _ in range(count)]
    messages = [issue(client, solana_wallet)["message"] for client in clients]
    responses = race(count, lambda i: verify(clients[i], solana_wallet, messages[i]))
    assert [r.status_code for r in responses] == [HTTPStatus.OK] * count
    assert len({r.json()["data"]["user"]["id"] for r in responses}) == 1
    assert (User.objects.count(), Wallet.objects.count()) == (1, 1)


def test_unlinking_two_last_wallets_at_once_keeps_one(evm_wallet, cosmos_wallet):
    client = HeadlessClient("browser")
    verify(client, evm_wallet, issue(client, evm_wallet)["message"])
    verify(client, cosmos_wallet, issue(client, cosmos_wallet, "connect")["message"])
    bodies = [{"chain": w.chain, "address": w.address} for w in (evm_wallet, cosmos_wallet)]
    responses = race(2, lambda i: client.delete("/account/wallets", bodies[i]))
    assert sorted(r.status_code for r in responses) == [HTTPStatus.OK, HTTPStatus.CONFLICT]
    assert Wallet.objects.count() == 1
