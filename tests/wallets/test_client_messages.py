"""Messages as dApps and wallet libraries build them (API.md v1.1): the server binds
domain, address, chain, URI, nonce and the time window; the rest is the dApp's."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import base58
import pytest
from django.test import override_settings

from tests.wallets.conftest import CosmosWallet, EvmWallet, SolanaWallet
from tests.wallets.helpers import (
    VERIFY,
    client_message,
    error,
    issue,
    verify,
    verify_body,
    without_messages,
)
from wallets.chains.evm import recover_address
from wallets.models import Wallet

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 order
L = 2**252 + 27742317777372353535851937790883648493  # ed25519 group order
DAPP_STATEMENT = "Sign in with Ethereum to the app."  # RainbowKit's
RECAP = "urn:recap:eyJhdHQiOnsiZWlwMTU1Ijp7InJlcXVlc3QvcGVyc29uYWxfc2lnbiI6W3t9XX19fQ"


def _methods(response) -> list[dict]:
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["data"]["methods"]


@pytest.mark.parametrize("statement", [DAPP_STATEMENT, None, "Sign in to Signet."])
def test_any_statement_or_none_is_the_dapps_choice(headless, any_wallet, statement):
    nonce = issue(headless, any_wallet)["nonce"]
    response = verify(headless, any_wallet, client_message(any_wallet, nonce, statement=statement))
    [record] = _methods(response)
    assert set(record) == {"method", "at", "chain", "address"}


def test_request_id_and_resources_are_accepted_and_reported(headless, evm_wallet):
    """WalletConnect/Reown one-click auth: a Request ID and a ReCap resource."""
    nonce = issue(headless, evm_wallet)["nonce"]
    lines = ("Request ID: 7f3a-req:1", "Resources:", f"- {RECAP}", "- https://app.example.com/tos")
    message = client_message(evm_wallet, nonce, statement=DAPP_STATEMENT, extra_lines=lines)
    [record] = _methods(verify(headless, evm_wallet, message))
    assert record == {
        "method": "wallet",
        "at": record["at"],
        "chain": "eip155:1",
        "address": evm_wallet.address,
        "request_id": "7f3a-req:1",
        "resources": [RECAP, "https://app.example.com/tos"],
    }
    assert headless.get("/auth/session").json()["data"]["methods"] == [record]


@override_settings(WALLET_STATEMENT_REQUIRED=True)
@pytest.mark.parametrize("statement", [DAPP_STATEMENT, None])
def test_a_required_statement_must_be_the_servers(headless, any_wallet, statement):
    nonce = issue(headless, any_wallet)["nonce"]
    response = verify(headless, any_wallet, client_message(any_wallet, nonce, statement=statement))
    assert without_messages(response.json()) == error(400, "message_mismatch", "message")
    assert not Wallet.objects.exists()
    nonce = issue(headless, any_wallet)["nonce"]
    message = client_message(any_wallet, nonce, statement="Sign in to Signet.")
    assert verify(headless, any_wallet, message).status_code == HTTPStatus.OK


# --- Spellings of the libraries --------------------------------------------------


SOLANA_HEAD = "app.example.com wants you to sign in with your Solana account:"


def test_minimal_siws_message_signs_in(headless, solana_wallet):
    """Phantom's docs example: domain and address; the server adds only the nonce."""
    nonce = issue(headless, solana_wallet)["nonce"]
    message = f"{SOLANA_HEAD}\n{solana_wallet.address}\n\nNonce: {nonce}"
    assert verify(headless, solana_wallet, message).status_code == HTTPStatus.OK


def test_siws_message_without_a_nonce_is_refused(headless, solana_wallet):
    issue(headless, solana_wallet)
    for message in (
        f"{SOLANA_HEAD}\n{solana_wallet.address}",
        f"{SOLANA_HEAD}\n{solana_wallet.address}\n\nURI: https://app.example.com\nVersion: 1",
    ):
        response = verify(headless, solana_wallet, message)
        assert without_messages(response.json()) == error(400, "invalid", "message")
    assert not Wallet.objects.exists()


def test_minimal_siws_message_is_still_bound_to_its_challenge(headless, solana_wallet):
    nonce = issue(headless, solana_wallet)["nonce"]
    minimal = f"{SOLANA_HEAD}\n{solana_wallet.address}\n\nNonce: {nonce}"
    other_domain = minimal.replace("app.example.com", "localhost:3000")
    response = verify(headless, solana_wallet, other_domain)
    assert without_messages(response.json()) == error(400, "domain_mismatch", "message")
    response = verify(
        headless, solana_wallet, other_domain.replace("localhost:3000", "app.example.com")
    )
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")


def _walletconnect_format(wallet, nonce: str, *, label: str, chain_id: str) -> str:
    """@walletconnect/utils formatMessage without a statement: EIP-4361's blank lines."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return (
        f"app.example.com wants you to sign in with your {label} account:\n{wallet.address}\n\n\n"
        f"URI: https://app.example.com\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\n"
        f"Issued At: {now}"
    )


@pytest.mark.parametrize(
    ("wallet", "label", "chain_id"),
    [
        (SolanaWallet(), "Solana", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
        (CosmosWallet(), "cosmos", "cosmoshub-4"),
        (EvmWallet(), "Ethereum", "1"),
    ],
    ids=["solana", "cosmos", "evm"],
)
def test_walletconnect_format_message_signs_in(headless, wallet, label, chain_id):
    nonce = issue(headless, wallet)["nonce"]
    message = _walletconnect_format(wallet, nonce, label=label, chain_id=chain_id)
    assert verify(headless, wallet, message).status_code == HTTPStatus.OK


def test_walletconnect_solana_message_for_another_cluster_is_chain_mismatch(
    headless, solana_wallet
):
    nonce = issue(headless, solana_wallet)["nonce"]
    devnet = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
    message = _walletconnect_format(solana_wallet, nonce, label="Solana", chain_id=devnet)
    response = verify(headless, solana_wallet, message)
    assert without_messages(response.json()) == error(400, "chain_mismatch", "message")


@override_settings(WALLET_CHAINS=["cosmos:injective-1"])
def test_keplr_injective_result_sent_as_is_signs_in(headless, make_headless):
    """Keplr's signArbitrary labels Injective's eth_secp256k1 key tendermint/PubKeySecp256k1."""
    wallet = CosmosWallet(chain="cosmos:injective-1", prefix="inj", ethermint=True)
    message = issue(headless, wallet)["message"]
    key = {"type": "tendermint/PubKeySecp256k1", "value": wallet.public_key}
    response = headless.post(VERIFY, verify_body(wallet, message, public_key=key))
    assert response.status_code == HTTPStatus.OK, response.content
    # Another key, labelled the same way: not the address's.
    other = CosmosWallet(chain="cosmos:injective-1", prefix="inj", ethermint=True)
    client = make_headless()
    message = issue(client, wallet)["message"]
    key = {"type": "tendermint/PubKeySecp256k1", "value": other.public_key}
    body = verify_body(wallet, message, signature=other.sign(message), public_key=key)
    response = client.post(VERIFY, body)
    assert without_messages(response.json()) == error(400, "address_mismatch", "address")


# --- Canonical signatures ----------------------------------------------------------


def test_high_s_evm_signature_is_refused(headless, evm_wallet):
    """The malleated twin (s -> n - s, v flipped) recovers the same key; ethers refuses it."""
    message = issue(headless, evm_wallet)["message"]
    good = bytes.fromhex(evm_wallet.sign(message)[2:])
    s = int.from_bytes(good[32:64], "big")
    twin = good[:32] + (N - s).to_bytes(32, "big") + bytes([55 - good[64]])  # v: 27 <-> 28
    assert recover_address(message, twin) == evm_wallet.address  # the same key recovers
    response = verify(headless, evm_wallet, message, signature="0x" + twin.hex())
    assert without_messages(response.json()) == error(400, "invalid_signature", "signature")
    assert not Wallet.objects.exists()


def test_high_s_cosmos_signature_is_refused(headless, cosmos_wallet):
    message = issue(headless, cosmos_wallet)["message"]
    good = base64.b64decode(cosmos_wallet.sign(message))
    twin = good[:32] + (N - int.from_bytes(good[32:], "big")).to_bytes(32, "big")
    response = verify(headless, cosmos_wallet, message, signature=base64.b64encode(twin).decode())
    assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


def test_non_canonical_ed25519_signature_is_refused(headless, solana_wallet):
    message = issue(headless, solana_wallet)["message"]
    good = base58.b58decode(solana_wallet.sign(message))
    s = int.from_bytes(good[32:], "little") + L  # the same point equation, S >= L
    twin = base58.b58encode(good[:32] + s.to_bytes(32, "little")).decode()
    response = verify(headless, solana_wallet, message, signature=twin)
    assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


# --- Timestamps ----------------------------------------------------------------------


def test_issued_timestamps_carry_milliseconds(headless, any_wallet):
    message = issue(headless, any_wallet)["message"]
    stamps = re.findall(r"^(?:Issued At|Expiration Time): (.*)$", message, re.M)
    assert len(stamps) == 2
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", s) for s in stamps)


def test_client_timestamps_without_milliseconds_are_accepted(headless, any_wallet):
    nonce = issue(headless, any_wallet)["nonce"]
    now = datetime.now(UTC)
    message = client_message(any_wallet, nonce, expires_at=now + timedelta(minutes=2))
    message = re.sub(r"\.\d{3}Z", "Z", message)
    assert ".000Z" not in message and verify(headless, any_wallet, message).status_code == 200
