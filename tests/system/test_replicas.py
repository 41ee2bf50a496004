"""Two Signet instances (separate gunicorn processes) on one PostgreSQL and
one Redis, as behind a load balancer: no state lives in a process, so any
request may land on either and the client cannot tell."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from tests.system._client import ApiClient, signed, verification_key
from tests.system._servers import SignetServer
from tests.wallets.conftest import EvmWallet

# The name users sign in at: the balancer's, not either instance's.
DOMAIN = "signet.example"
# Five wrong passwords per account per minute, counted across both instances.
KEY_LIMIT = 5


@pytest.fixture(scope="module")
def replicas(signet_server) -> tuple[SignetServer, SignetServer]:
    settings = {
        "wallet_domains": DOMAIN,
        "ACCOUNT_EMAIL_VERIFICATION": "mandatory",
        "ACCOUNT_RATE_LIMITS": f"login_failed=100/m/ip,{KEY_LIMIT}/m/key",
    }
    first = signet_server(**settings)
    second = signet_server(database=first.database, prefix=first.redis_prefix, **settings)
    return first, second


@pytest.fixture(params=["app", "browser"])
def kind(request) -> str:
    return request.param


def test_a_challenge_issued_by_one_is_verified_by_the_other(replicas, kind):
    one, other = replicas
    client, wallet = ApiClient(one, kind), EvmWallet()
    issued = client.post(
        "/auth/wallet/challenge",
        {"chain": wallet.chain, "address": wallet.address, "process": "login"},
    )
    assert issued.status_code == HTTPStatus.OK
    assert issued.json()["data"]["message"].startswith(f"{DOMAIN} wants you to sign in")

    verified = client.post(
        "/auth/wallet/verify", signed(wallet, issued.json()["data"]["message"]), server=other
    )

    assert verified.status_code == HTTPStatus.OK, verified.text
    user = verified.json()["data"]["user"]["id"]
    assert client.get("/auth/session", server=one).json()["data"]["user"]["id"] == user


def test_a_session_made_on_one_works_and_ends_on_the_other(replicas, kind):
    one, other = replicas
    client = ApiClient(one, kind)
    email = f"roaming-{kind}@example.com"
    assert client.signup(email).status_code == HTTPStatus.UNAUTHORIZED  # verification pending

    # The pending signup lives in the session, the key is signed with the
    # shared secret: the other instance completes it.
    key = verification_key(one.mail_dir, email)
    verified = client.post("/auth/email/verify", {"key": key}, server=other)
    assert verified.status_code == HTTPStatus.OK, verified.text
    assert client.get("/auth/session", server=one).status_code == HTTPStatus.OK

    assert client.delete("/auth/session", server=one).status_code == HTTPStatus.UNAUTHORIZED
    after = client.get("/auth/session", server=other)
    ended = HTTPStatus.GONE if kind == "app" else HTTPStatus.UNAUTHORIZED
    assert after.status_code == ended


def test_rate_limits_are_counted_across_instances(replicas):
    one, other = replicas
    email = "target@example.com"
    ApiClient(one).signup(email)

    answers = [
        ApiClient(server).login(email, "wrong password").status_code
        for server in [one, other] * KEY_LIMIT
    ]

    # Five wrong passwords in all, not five per instance.
    refused = [HTTPStatus.TOO_MANY_REQUESTS] * KEY_LIMIT
    assert answers == [HTTPStatus.BAD_REQUEST] * KEY_LIMIT + refused
