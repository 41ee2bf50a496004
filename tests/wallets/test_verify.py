"""POST /auth/wallet/verify with process "login": signing in, signing up, refusals."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
import redis
from django.test import override_settings

from accounts.models import User
from tests.wallets.conftest import CosmosWallet, EvmWallet, SolanaWallet
from tests.wallets.helpers import (
    VERIFY,
    client_message,
    error,
    issue,
    sign_in,
    verify,
    verify_body,
    without_messages,
)
from wallets.models import Wallet


def _wallet_json(wallet: Wallet) -> dict:
    return {
        "id": wallet.pk,
        "chain": wallet.chain,
        "address": wallet.address,
        "account_id": f"{wallet.chain}:{wallet.address}",
        "created_at": wallet.created_at.timestamp(),
        "last_used_at": wallet.last_used_at.timestamp(),
    }


def _signed_in_body(client, response, wallet: Wallet) -> dict:
    meta = {"is_authenticated": True}
    if client.kind == "app":
        meta["session_token"] = client.token
    at = response.json()["data"]["methods"][0]["at"]
    return {
        "status": 200,
        "data": {
            "user": {
                "id": wallet.user.pk,
                "display": f"user {wallet.user.pk}",
                "has_usable_password": False,
                "wallets": [_wallet_json(wallet)],
            },
            "methods": [
                {"method": "wallet", "at": at, "chain": wallet.chain, "address": wallet.address}
            ],
        },
        "meta": meta,
    }


CANONICAL_CHAINS = {
    "eip155:1": "eip155:1",
    "solana:mainnet": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "cosmos:cosmoshub-4": "cosmos:cosmoshub-4",
}


def test_first_sign_in_creates_a_wallet_only_user(headless, any_wallet):
    response = sign_in(headless, any_wallet)
    assert response.status_code == HTTPStatus.OK, response.content
    wallet = Wallet.objects.select_related("user").get()
    assert (wallet.chain, wallet.address) == (
        CANONICAL_CHAINS[any_wallet.chain],
        any_wallet.address,
    )
    assert wallet.user.email is None
    assert not wallet.user.has_usable_password()
    assert response.json() == _signed_in_body(headless, response, wallet)
    assert headless.get("/auth/session").json()["data"]["user"]["id"] == wallet.user.pk


def test_next_sign_in_is_the_same_user(headless, make_headless, any_wallet):
    first = sign_in(headless, any_wallet).json()["data"]["user"]
    again = sign_in(make_headless(), any_wallet)
    assert again.status_code == HTTPStatus.OK
    user = again.json()["data"]["user"]
    assert user["id"] == first["id"]
    assert user["wallets"][0]["last_used_at"] > first["wallets"][0]["last_used_at"]
    assert User.objects.count() == 1


def test_an_evm_address_is_one_wallet_on_every_chain(headless, make_headless, evm_wallet):
    first = sign_in(headless, evm_wallet).json()["data"]["user"]
    evm_wallet.chain = "eip155:137"
    response = sign_in(make_headless(), evm_wallet)
    user = response.json()["data"]["user"]
    assert user["id"] == first["id"]
    assert [(w["chain"], w["address"]) for w in user["wallets"]] == [
        ("eip155:137", evm_wallet.address)
    ]
    assert response.json()["data"]["methods"][0]["chain"] == "eip155:137"


def test_lowercase_evm_address_is_canonicalised(headless):
    wallet = EvmWallet()
    checksummed = wallet.address
    data = issue(headless, type("Lower", (), {"chain": "eip155:1", "address": checksummed.lower()}))
    assert f"\n{checksummed}\n" in data["message"]
    body = verify_body(wallet, data["message"], address=checksummed.lower())
    response = headless.post(VERIFY, body)
    assert response.json()["data"]["user"]["wallets"][0]["address"] == checksummed


@override_settings(ACCOUNT_SIGNUP_OPEN=False)
def test_signup_closed_refuses_new_wallets_only(headless, make_headless, evm_wallet, solana_wallet):
    known = User.objects.create_user()
    Wallet.objects.create(
        user=known, namespace="solana", chain="solana:x", address=solana_wallet.address
    )
    response = sign_in(headless, evm_wallet)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert without_messages(response.json()) == error(403, "signup_closed")
    assert sign_in(make_headless(), solana_wallet).json()["data"]["user"]["id"] == known.pk


def test_inactive_user_cannot_sign_in(headless, evm_wallet):
    inactive = User.objects.create_user(is_active=False)
    Wallet.objects.create(
        user=inactive, namespace="eip155", chain="eip155:1", address=evm_wallet.address
    )
    response = sign_in(headless, evm_wallet)
    assert without_messages(response.json()) == error(403, "permission_denied")


def test_a_nonce_signs_in_once(headless, make_headless, any_wallet):
    message = issue(headless, any_wallet)["message"]
    assert verify(headless, any_wallet, message).status_code == HTTPStatus.OK
    replay = verify(make_headless(), any_wallet, message)
    assert without_messages(replay.json()) == error(400, "challenge_not_found", "message")


def test_a_failed_attempt_spends_the_nonce(headless, any_wallet):
    message = issue(headless, any_wallet)["message"]
    impostor = type(any_wallet)()
    forged = verify(headless, any_wallet, message, signature=impostor.sign(message))
    assert without_messages(forged.json()) == error(400, "invalid_signature", "signature")
    retry = verify(headless, any_wallet, message)
    assert without_messages(retry.json()) == error(400, "challenge_not_found", "message")
    assert not Wallet.objects.exists()


def test_wrong_signature_is_invalid_signature(headless, evm_wallet, solana_wallet):
    for wallet in (evm_wallet, solana_wallet):
        message = issue(headless, wallet)["message"]
        other = type(wallet)().sign(message)
        response = verify(headless, wallet, message, signature=other)
        assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


def test_signature_over_other_bytes_is_refused(headless, any_wallet):
    message = issue(headless, any_wallet)["message"]
    signature = any_wallet.sign(message + "\n")
    response = verify(headless, any_wallet, message, signature=signature)
    assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


# --- Client- and wallet-built messages --------------------------------------------


@pytest.mark.parametrize("wallet_class", [EvmWallet, SolanaWallet, CosmosWallet])
def test_equivalent_client_built_message_is_accepted(headless, wallet_class):
    """viem's createSiweMessage / Phantom's signIn: no statement, the client's own
    Issued At (milliseconds, a few seconds off) and Expiration Time."""
    wallet = wallet_class()
    nonce = issue(headless, wallet)["nonce"]
    now = datetime.now(UTC)
    message = client_message(
        wallet, nonce, issued_at=now - timedelta(seconds=20), expires_at=now + timedelta(minutes=2)
    )
    response = verify(headless, wallet, message)
    assert response.status_code == HTTPStatus.OK, response.content


def test_eip4361_scheme_prefix_is_accepted_when_it_matches(make_headless, evm_wallet):
    client = make_headless()
    nonce = issue(client, evm_wallet)["nonce"]
    message = client_message(evm_wallet, nonce, domain="https://app.example.com")
    assert verify(client, evm_wallet, message).status_code == HTTPStatus.OK
    client = make_headless()
    nonce = issue(client, evm_wallet)["nonce"]
    message = client_message(evm_wallet, nonce, domain="http://app.example.com")
    response = verify(client, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "domain_mismatch", "message")


def _mismatch(headless, wallet, code: str, param: str = "message", **fields) -> None:
    nonce = issue(headless, wallet)["nonce"]
    message = client_message(wallet, nonce, **fields)
    response = verify(headless, wallet, message)
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert without_messages(response.json()) == error(400, code, param)
    assert not Wallet.objects.exists()


def test_other_domain_is_domain_mismatch(headless, any_wallet):
    _mismatch(headless, any_wallet, "domain_mismatch", domain="localhost:3000")


def test_other_uri_is_message_mismatch(headless, any_wallet):
    _mismatch(headless, any_wallet, "message_mismatch", uri="https://app.example.com/other")


def test_other_chain_is_chain_mismatch(headless, evm_wallet):
    _mismatch(headless, evm_wallet, "chain_mismatch", chain_id="137")


def test_request_on_other_chain_is_chain_mismatch(headless, evm_wallet):
    message = issue(headless, evm_wallet)["message"]
    response = headless.post(VERIFY, verify_body(evm_wallet, message, chain="eip155:10"))
    assert without_messages(response.json()) == error(400, "chain_mismatch", "chain")


def test_other_address_is_address_mismatch(headless, any_wallet):
    """B signs a message naming B with A's nonce: still not B's challenge."""
    thief = type(any_wallet)()
    for claimed, param in ((thief.address, "address"), (any_wallet.address, "message")):
        message = client_message(thief, issue(headless, any_wallet)["nonce"])
        response = headless.post(VERIFY, verify_body(thief, message, address=claimed))
        assert without_messages(response.json()) == error(400, "address_mismatch", param)
    assert not Wallet.objects.exists()


def test_request_for_other_address_is_address_mismatch(headless, any_wallet):
    message = issue(headless, any_wallet)["message"]
    thief = type(any_wallet)()
    response = headless.post(VERIFY, verify_body(thief, message))
    assert without_messages(response.json()) == error(400, "address_mismatch", "address")


def test_expired_message_is_refused(headless, any_wallet):
    past = datetime.now(UTC) - timedelta(minutes=3)
    _mismatch(headless, any_wallet, "expired", issued_at=past, expires_at=past)


def test_future_not_before_is_not_yet_valid(headless, any_wallet):
    soon = datetime.now(UTC) + timedelta(minutes=3)
    _mismatch(headless, any_wallet, "not_yet_valid", not_before=soon)


def test_future_issued_at_is_not_yet_valid(headless, any_wallet):
    soon = datetime.now(UTC) + timedelta(minutes=3)
    _mismatch(headless, any_wallet, "not_yet_valid", issued_at=soon)


def test_issued_at_before_the_challenge_is_refused(headless, any_wallet):
    early = datetime.now(UTC) - timedelta(minutes=3)
    _mismatch(headless, any_wallet, "message_mismatch", issued_at=early)


def test_small_clock_skew_is_tolerated(headless, any_wallet):
    nonce = issue(headless, any_wallet)["nonce"]
    now = datetime.now(UTC)
    message = client_message(
        any_wallet,
        nonce,
        issued_at=now + timedelta(seconds=30),
        not_before=now + timedelta(seconds=30),
        expires_at=now - timedelta(seconds=30),
    )
    assert verify(headless, any_wallet, message).status_code == HTTPStatus.OK


@override_settings(WALLET_CHALLENGE_TTL=1)
def test_expired_challenge_is_gone(headless, evm_wallet):
    message = issue(headless, evm_wallet)["message"]
    time.sleep(1.5)
    response = verify(headless, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")


def test_a_message_that_merely_contains_the_nonce_is_refused(headless, evm_wallet):
    nonce = issue(headless, evm_wallet)["nonce"]
    message = f"Please sign to log in. Nonce: {nonce}"
    response = verify(headless, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "invalid", "message")
    wrapped = "Hello\n" + issue(headless, evm_wallet)["message"]
    response = verify(headless, evm_wallet, wrapped)
    assert without_messages(response.json()) == error(400, "invalid", "message")


# --- Malformed input: always 400 with the contract's code, never 500 --------------


@pytest.mark.parametrize(
    ("wallet_class", "signature"),
    [
        (EvmWallet, "0xzz"),
        (EvmWallet, "deadbeef"),
        (EvmWallet, "0x" + "00" * 65),
        (EvmWallet, "0x" + "ff" * 64 + "1b"),
        (SolanaWallet, "!!!"),
        (SolanaWallet, "1" * 88),
        (CosmosWallet, "bm90IGEgc2lnbmF0dXJl"),
        (CosmosWallet, "A" * 86 + "=="),
        (CosmosWallet, "/" * 86 + "=="),  # r, s above the group order
    ],
)
def test_malformed_signatures(headless, wallet_class, signature):
    wallet = wallet_class()
    message = issue(headless, wallet)["message"]
    response = verify(headless, wallet, message, signature=signature)
    assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


@pytest.mark.parametrize(
    ("public_key", "code"),
    [
        (None, "required"),
        ("", "required"),
        ("not base64!", "invalid_public_key"),
        ("AAAA", "invalid_public_key"),
        ("Ag" + "A" * 42, "invalid_public_key"),
        ({"type": "unknown/Key", "value": "AAAA"}, "invalid_public_key"),
        (12, "invalid"),
        (["a"], "invalid"),
    ],
)
def test_malformed_cosmos_public_keys(headless, cosmos_wallet, public_key, code):
    message = issue(headless, cosmos_wallet)["message"]
    body = verify_body(cosmos_wallet, message, public_key=public_key)
    response = headless.post(VERIFY, body)
    assert without_messages(response.json()) == error(400, code, "public_key")


def test_cosmos_key_of_another_account_is_address_mismatch(headless, cosmos_wallet):
    message = issue(headless, cosmos_wallet)["message"]
    other = CosmosWallet()
    body = verify_body(cosmos_wallet, message, public_key=other.public_key)
    response = headless.post(VERIFY, body)
    assert without_messages(response.json()) == error(400, "address_mismatch", "address")


def test_cosmos_keplr_key_object_is_accepted(headless, cosmos_wallet):
    message = issue(headless, cosmos_wallet)["message"]
    key = {"type": "tendermint/PubKeySecp256k1", "value": cosmos_wallet.public_key}
    response = headless.post(VERIFY, verify_body(cosmos_wallet, message, public_key=key))
    assert response.status_code == HTTPStatus.OK, response.content


@override_settings(WALLET_CHAINS=["cosmos:injective-1"])
def test_ethermint_keys_sign_in(headless):
    wallet = CosmosWallet(chain="cosmos:injective-1", prefix="inj", ethermint=True)
    response = sign_in(headless, wallet)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["user"]["wallets"][0]["address"] == wallet.address


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("chain", "bitcoin:mainnet", "unsupported_chain"),
        ("chain", "eip155", "unsupported_chain"),
        ("address", "0xnope", "invalid_address"),
        ("message", "", "required"),
        ("message", ["a"], "invalid"),
        ("message", "x" * 5000, "invalid"),
        ("signature", None, "required"),
    ],
)
def test_malformed_fields(headless, evm_wallet, field, value, code):
    message = issue(headless, evm_wallet)["message"]
    response = headless.post(VERIFY, {**verify_body(evm_wallet, message), field: value})
    assert without_messages(response.json()) == error(400, code, field)


def test_garbage_message_for_each_family(headless, any_wallet):
    for message in ("", "\n\n\n", "wants you to sign in", "a\r\nb", "\x00" * 10, "é" * 100):
        body = verify_body(any_wallet, message or "x")
        response = headless.post(VERIFY, body)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"][0]["code"] == "invalid"


def test_redis_down_is_service_unavailable(headless, evm_wallet, monkeypatch):
    message = issue(headless, evm_wallet)["message"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    monkeypatch.setattr("accounts.redis.redis_client", lambda: down)
    response = verify(headless, evm_wallet, message)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert without_messages(response.json()) == error(503, "service_unavailable")


@override_settings(ACCOUNT_RATE_LIMITS="wallet_verify=2/m/ip")
def test_verify_is_rate_limited_per_ip(headless, make_headless, evm_wallet):
    message = issue(headless, evm_wallet)["message"]
    for client in (headless, make_headless()):
        verify(client, evm_wallet, message)
    response = verify(make_headless(), evm_wallet, message)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert without_messages(response.json()) == error(429, "rate_limited")


def test_already_signed_in_cannot_use_a_login_challenge(
    headless, logged_in, make_headless, evm_wallet
):
    message = issue(make_headless(), evm_wallet)["message"]
    response = verify(logged_in, evm_wallet, message)
    assert without_messages(response.json()) == error(409, "already_authenticated")
    assert not Wallet.objects.exists()
