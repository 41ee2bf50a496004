"""POST /auth/wallet/challenge: what is issued, where it is stored, what is refused."""

from __future__ import annotations

import json
import math
import re
import socket
from datetime import UTC, datetime
from http import HTTPStatus

import pytest
import redis
from django.test import override_settings

from accounts.redis import redis_client, redis_key
from tests.conftest import HeadlessClient
from tests.wallets.helpers import CHALLENGE, challenge, error, issue, without_messages
from wallets.challenges import NONCE_BYTES, NONCE_LENGTH, new_nonce


def _when(ts: float) -> str:
    """Date.toISOString() of a unix time: milliseconds always, e.g. ".000Z"."""
    seconds, millis = divmod(round(ts * 1000), 1000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def test_evm_challenge_body_is_the_exact_eip4361_message(headless, evm_wallet):
    response = challenge(headless, evm_wallet)
    assert response.status_code == HTTPStatus.OK
    data = response.json()["data"]
    assert data["expires_at"] - data["issued_at"] == 300
    message = f"""\
app.example.com wants you to sign in with your Ethereum account:
{evm_wallet.address}

Sign in to Signet.

URI: https://app.example.com
Version: 1
Chain ID: 1
Nonce: {data["nonce"]}
Issued At: {_when(data["issued_at"])}
Expiration Time: {_when(data["expires_at"])}"""
    assert response.json() == {
        "status": 200,
        "data": {
            "nonce": data["nonce"],
            "message": message,
            "issued_at": data["issued_at"],
            "expires_at": data["expires_at"],
        },
    }


def test_each_family_gets_its_own_message(headless, solana_wallet, cosmos_wallet):
    solana = issue(headless, solana_wallet)["message"]
    assert solana.startswith("app.example.com wants you to sign in with your Solana account:\n")
    assert "\nChain ID: mainnet\n" in solana
    cosmos = issue(headless, cosmos_wallet)["message"]
    assert cosmos.startswith("app.example.com wants you to sign in with your Cosmos account:\n")
    assert f"\n{cosmos_wallet.address}\n" in cosmos
    assert "\nChain ID: cosmoshub-4\n" in cosmos


def test_nonce_is_long_random_alphanumeric():
    nonces = {new_nonce() for _ in range(2000)}
    assert len(nonces) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9]{22}", nonce) for nonce in nonces)
    assert NONCE_BYTES * 8 >= 96  # bits from `secrets`, all of them kept:
    assert NONCE_LENGTH * math.log2(62) >= NONCE_BYTES * 8
    assert len(set("".join(nonces))) == 62  # the whole alphabet is in use


def test_challenge_is_stored_under_its_nonce_with_the_issued_fields(headless, evm_wallet):
    data = issue(headless, evm_wallet)
    key = redis_key("wallet", "challenge", data["nonce"])
    stored = json.loads(redis_client().get(key))
    assert stored == {
        "nonce": data["nonce"],
        "process": "login",
        "chain": "eip155:1",
        "address": evm_wallet.address,
        "domain": "app.example.com",
        "uri": "https://app.example.com",
        "statement": "Sign in to Signet.",
        "issued_at": datetime.fromtimestamp(data["issued_at"], UTC).isoformat(),
        "expires_at": datetime.fromtimestamp(data["expires_at"], UTC).isoformat(),
        "user_id": None,
    }
    assert 295 <= redis_client().ttl(key) <= 300


def test_challenges_for_one_address_do_not_overwrite_each_other(headless, evm_wallet):
    first, second = issue(headless, evm_wallet), issue(headless, evm_wallet)
    assert first["nonce"] != second["nonce"]
    keys = list(redis_client().scan_iter(match=redis_key("wallet", "*")))
    assert sorted(keys) == sorted(
        redis_key("wallet", "challenge", n).encode() for n in (first["nonce"], second["nonce"])
    )
    assert not any(evm_wallet.address.lower().encode() in key.lower() for key in keys)


@override_settings(WALLET_CHALLENGE_TTL=60)
def test_ttl_comes_from_settings(headless, solana_wallet):
    data = issue(headless, solana_wallet)
    assert data["expires_at"] - data["issued_at"] == 60
    assert redis_client().ttl(redis_key("wallet", "challenge", data["nonce"])) <= 60


def test_domain_may_be_another_configured_one(headless, evm_wallet):
    message = issue(headless, evm_wallet, domain="localhost:3000")["message"]
    assert message.startswith("localhost:3000 wants you to sign in")
    assert "\nURI: http://localhost:3000\n" in message


def test_domain_not_configured_is_refused(headless, evm_wallet):
    response = challenge(headless, evm_wallet, domain="evil.example")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert without_messages(response.json()) == error(400, "domain_mismatch", "domain")


def test_uri_on_the_domain_is_used(headless, evm_wallet):
    message = issue(headless, evm_wallet, uri="https://app.example.com/login?next=%2F")["message"]
    assert "\nURI: https://app.example.com/login?next=%2F\n" in message


@pytest.mark.parametrize(
    "uri", ["https://evil.example/login", "ftp://app.example.com", "https://app.example.com/\n"]
)
def test_uri_elsewhere_is_refused(headless, evm_wallet, uri):
    response = challenge(headless, evm_wallet, uri=uri)
    assert without_messages(response.json()) == error(400, "invalid", "uri")


@pytest.mark.parametrize(
    "chain",
    ["bip122:000000000019d6689c085ae165831e93", "eip155:01", "eip155:abc", "solana:localnet",
     "cosmos:osmosis-1", "ethereum", "", "x" * 65],
)  # fmt: skip
def test_unsupported_chains_are_refused(headless, chain):
    response = headless.post(
        CHALLENGE, {"chain": chain, "address": "0x" + "1" * 40, "process": "login"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    code = "required" if chain == "" else "invalid" if len(chain) > 64 else "unsupported_chain"
    assert without_messages(response.json()) == error(400, code, "chain")


@pytest.mark.parametrize(
    ("chain", "address"),
    [
        ("eip155:1", "0x123"),
        ("eip155:1", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756cc2"),  # bad EIP-55 checksum
        ("solana:mainnet", "0OIl" * 11),
        ("solana:mainnet", "11111111111111111111111111111111111"),
        ("cosmos:cosmoshub-4", "osmo1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"),
        ("cosmos:cosmoshub-4", "cosmos1notbech32"),
    ],
)
def test_malformed_addresses_are_refused(headless, chain, address):
    response = headless.post(CHALLENGE, {"chain": chain, "address": address, "process": "login"})
    assert without_messages(response.json()) == error(400, "invalid_address", "address")


def test_missing_and_invalid_fields(headless):
    response = headless.post(CHALLENGE, {"process": "register"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert without_messages(response.json()) == {
        "status": 400,
        "errors": [
            {"code": "required", "param": "chain"},
            {"code": "required", "param": "address"},
            {"code": "invalid", "param": "process"},
        ],
    }


@pytest.mark.parametrize("raw", ["[]", "not json", '{"chain": ["eip155:1"]}'])
def test_bad_bodies_answer_in_the_envelope(headless, raw):
    response = headless.request("POST", CHALLENGE, raw=raw)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["status"] == 400


def test_login_challenge_when_signed_in_is_a_conflict(logged_in, evm_wallet):
    response = challenge(logged_in, evm_wallet)
    assert without_messages(response.json()) == error(409, "already_authenticated")


def test_connect_challenge_needs_a_user(headless, evm_wallet):
    response = challenge(headless, evm_wallet, "connect")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {
        "status": 401,
        "data": {"flows": [{"id": "login"}, {"id": "signup"}, {"id": "wallet_login"}]},
        "meta": {"is_authenticated": False},
    }
    assert not list(redis_client().scan_iter(match=redis_key("wallet", "*")))


def test_connect_challenge_is_bound_to_the_user(logged_in, user, evm_wallet):
    data = issue(logged_in, evm_wallet, "connect")
    stored = json.loads(redis_client().get(redis_key("wallet", "challenge", data["nonce"])))
    assert (stored["process"], stored["user_id"]) == ("connect", user.pk)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_redis_down_is_service_unavailable(headless, evm_wallet, monkeypatch, closed_port):
    down = redis.Redis(host="127.0.0.1", port=closed_port, socket_connect_timeout=0.5)
    monkeypatch.setattr("accounts.redis.redis_client", lambda: down)
    response = challenge(headless, evm_wallet)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert without_messages(response.json()) == error(503, "service_unavailable")


@override_settings(ACCOUNT_RATE_LIMITS="wallet_challenge=2/m/ip")
def test_challenges_are_rate_limited_per_ip(headless, make_headless, evm_wallet):
    issue(headless, evm_wallet)
    issue(make_headless(), evm_wallet)  # another client, same IP
    response = challenge(headless, evm_wallet)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(response["Retry-After"]) <= 60
    assert without_messages(response.json()) == error(429, "rate_limited")


def test_config_announces_wallet_sign_in(headless):
    data = headless.get("/config").json()["data"]
    assert data["wallet"] == {
        "chains": ["eip155:*", "solana:mainnet", "solana:devnet", "cosmos:cosmoshub-4"],
        "domains": ["app.example.com", "localhost:3000"],
    }


@override_settings(WALLET_CHAINS=[])
def test_no_chains_no_wallet_login_flow(headless, evm_wallet):
    response = headless.get("/auth/session")
    assert response.json()["data"]["flows"] == [{"id": "login"}, {"id": "signup"}]
    refused = challenge(headless, evm_wallet)
    assert without_messages(refused.json()) == error(400, "unsupported_chain", "chain")


def test_browser_client_needs_the_csrf_token(db, evm_wallet):
    client = HeadlessClient("browser")  # the app client has no cookies, hence no CSRF
    body = {"chain": evm_wallet.chain, "address": evm_wallet.address, "process": "login"}
    for path in (CHALLENGE, "/auth/wallet/verify"):
        response = client.post(path, body, headers={"X-CSRFToken": "nope"})
        assert without_messages(response.json()) == error(403, "csrf_failed")
