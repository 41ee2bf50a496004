"""Races against gunicorn with several worker processes: 50 clients released at
once on the same email, the same nonce, the same wallet. The database and
Redis, not luck, must decide: one account, one success, one link."""

from __future__ import annotations

from collections import Counter
from http import HTTPStatus

import pytest

from tests.system._client import PASSWORD, ApiClient, all_at_once, signed
from tests.system._servers import Postgres, SignetServer
from tests.wallets.conftest import EvmWallet

RACERS = 50


@pytest.fixture(scope="module")
def server(signet_server) -> SignetServer:
    # Verification off: a signup that wins logs straight in, the others say
    # `email_taken`, so every answer can be told apart. No rate limits: 50
    # requests from one IP are the point here.
    return signet_server(ACCOUNT_EMAIL_VERIFICATION="none", ACCOUNT_RATE_LIMITS="off")


def _count(postgres: Postgres, server: SignetServer, sql: str, *args: object) -> int:
    with postgres.connect(server.database) as conn:
        return conn.execute(sql, args).fetchone()[0]


def _codes(responses) -> Counter:
    return Counter((r.status_code, r.json().get("errors", [{}])[0].get("code")) for r in responses)


def test_concurrent_signups_of_one_email_make_one_account(server, postgres):
    # The same address in different cases: uniqueness is case-insensitive.
    spellings = ["race@example.com", "Race@example.com", "RACE@example.com"]
    passwords = [f"{PASSWORD} {i}" for i in range(RACERS)]
    responses = all_at_once(
        lambda i=i: ApiClient(server).signup(spellings[i % 3], passwords[i]) for i in range(RACERS)
    )

    assert _codes(responses) == {
        (HTTPStatus.OK, None): 1,
        (HTTPStatus.BAD_REQUEST, "email_taken"): RACERS - 1,
    }
    users = "SELECT count(*) FROM accounts_user WHERE lower(email) = %s"
    addresses = "SELECT count(*) FROM accounts_emailaddress WHERE lower(email) = %s"
    assert _count(postgres, server, users, "race@example.com") == 1
    assert _count(postgres, server, addresses, "race@example.com") == 1
    # The account is the winner's: its password signs in, a loser's does not.
    winner = next(i for i, r in enumerate(responses) if r.status_code == HTTPStatus.OK)
    loser = (winner + 1) % RACERS
    assert ApiClient(server).login("race@example.com", passwords[winner]).status_code == 200
    assert ApiClient(server).login("race@example.com", passwords[loser]).status_code == 400


def test_concurrent_verifies_of_one_nonce_sign_in_once(server, postgres):
    wallet = EvmWallet()
    issued = ApiClient(server).post(
        "/auth/wallet/challenge",
        {"chain": wallet.chain, "address": wallet.address, "process": "login"},
    )
    body = signed(wallet, issued.json()["data"]["message"])

    responses = all_at_once(
        lambda: ApiClient(server).post("/auth/wallet/verify", body) for _ in range(RACERS)
    )

    assert _codes(responses) == {
        (HTTPStatus.OK, None): 1,
        (HTTPStatus.BAD_REQUEST, "challenge_not_found"): RACERS - 1,
    }
    winner = next(r for r in responses if r.status_code == HTTPStatus.OK)
    assert winner.json()["meta"]["session_token"]
    wallets = "SELECT count(*) FROM wallets_wallet WHERE address = %s"
    assert _count(postgres, server, wallets, wallet.address) == 1


def test_concurrent_first_sign_ins_of_one_wallet_make_one_user(server, postgres):
    """Fifty challenges of one new wallet, verified at once: all sign in, to one user."""
    wallet = EvmWallet()
    bodies = []
    for _ in range(RACERS):
        issued = ApiClient(server).post(
            "/auth/wallet/challenge",
            {"chain": wallet.chain, "address": wallet.address, "process": "login"},
        )
        bodies.append(signed(wallet, issued.json()["data"]["message"]))

    responses = all_at_once(
        lambda body=body: ApiClient(server).post("/auth/wallet/verify", body) for body in bodies
    )

    assert _codes(responses) == {(HTTPStatus.OK, None): RACERS}
    assert len({r.json()["data"]["user"]["id"] for r in responses}) == 1
    wallets = "SELECT count(*) FROM wallets_wallet WHERE address = %s"
    assert _count(postgres, server, wallets, wallet.address) == 1


def test_concurrent_links_of_one_wallet_to_different_users_link_once(server, postgres):
    users = all_at_once(
        lambda i=i: _signed_up(server, f"linker{i}@example.com") for i in range(RACERS)
    )
    wallet = EvmWallet()
    bodies = []
    for client in users:
        issued = client.post(
            "/auth/wallet/challenge",
            {"chain": wallet.chain, "address": wallet.address, "process": "connect"},
        )
        assert issued.status_code == HTTPStatus.OK, issued.text
        bodies.append(signed(wallet, issued.json()["data"]["message"]))

    responses = all_at_once(
        lambda client=client, body=body: client.post("/auth/wallet/verify", body)
        for client, body in zip(users, bodies, strict=True)
    )

    assert _codes(responses) == {
        (HTTPStatus.OK, None): 1,
        (HTTPStatus.CONFLICT, "wallet_already_linked"): RACERS - 1,
    }
    wallets = "SELECT count(*) FROM wallets_wallet WHERE address = %s"
    assert _count(postgres, server, wallets, wallet.address) == 1
    # The wallet is on the winner's account and on no one else's.
    listed = [[w["address"] for w in c.get("/account/wallets").json()["data"]] for c in users]
    winner = next(i for i, r in enumerate(responses) if r.status_code == HTTPStatus.OK)
    assert listed[winner] == [wallet.address]
    assert sum(1 for addresses in listed if addresses) == 1


def _signed_up(server: SignetServer, email: str) -> ApiClient:
    client = ApiClient(server)
    response = client.signup(email)
    assert response.status_code == HTTPStatus.OK, response.text
    return client
