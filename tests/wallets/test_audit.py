"""Wallet flows report to the one auth_event signal (the audit trail stores them)."""

from __future__ import annotations

from accounts.models import AuthEvent
from tests.wallets.helpers import WALLETS, issue, sign_in, verify


def _trail() -> list[tuple]:
    rows = AuthEvent.objects.order_by("pk")
    return [(e.kind, e.outcome, e.method, e.chain, e.user_id, e.detail) for e in rows]


def test_first_sign_in_is_a_signup_then_a_login(headless, solana_wallet):
    user_id = sign_in(headless, solana_wallet).json()["data"]["user"]["id"]
    chain = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    assert _trail() == [
        ("signup", "success", "wallet", chain, user_id, {}),
        ("login", "success", "wallet", chain, user_id, {}),
    ]


def test_refusals_are_failed_wallet_verifies(headless, evm_wallet):
    message = issue(headless, evm_wallet)["message"]
    verify(headless, evm_wallet, message, signature="0x00")
    verify(headless, evm_wallet, message)
    assert _trail() == [
        ("wallet_verify", "failure", "wallet", "", None, {"code": "invalid_signature"}),
        ("wallet_verify", "failure", "wallet", "", None, {"code": "challenge_not_found"}),
    ]


def test_link_and_unlink_are_recorded(logged_in, user, cosmos_wallet):
    sign_in(logged_in, cosmos_wallet, "connect")
    body = {"chain": cosmos_wallet.chain, "address": cosmos_wallet.address}
    logged_in.delete(WALLETS, body)
    events = [row for row in _trail() if row[0].startswith("wallet")]
    assert events == [
        ("wallet_linked", "success", "wallet", "cosmos:cosmoshub-4", user.pk, {}),
        (
            "wallet_unlinked",
            "success",
            "wallet",
            "cosmos:cosmoshub-4",
            user.pk,
            {"address": cosmos_wallet.address},
        ),
    ]
