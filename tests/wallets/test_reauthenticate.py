"""Step-up with a wallet (issue 9 item 7): process "reauthenticate", and the
wallet changes a stolen token can no longer make.

A thief with a token older than ACCOUNT_REAUTHENTICATION_TIMEOUT cannot link
a wallet of their own (neither get a `connect` challenge nor complete one
issued earlier) nor unlink the owner's; the owner steps up by signing a
`reauthenticate` challenge with one of their wallets (flow
`wallet_reauthenticate`, Signet's addition to allauth's flows). A
reauthenticate nonce is bound to the user it was issued to, and names a
wallet of theirs; it can neither sign in nor link, and no other nonce can
reauthenticate.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.models import User
from tests.accounts.helpers import age_authentication
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import (
    WALLETS,
    challenge,
    error,
    issue,
    sign_in,
    verify,
    without_messages,
)
from wallets.models import Wallet

STALE = 301


def _flows(response) -> list[dict]:
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    body = response.json()
    assert body["meta"] == {"is_authenticated": True}
    assert set(body["data"]) == {"user", "methods", "flows"}
    return body["data"]["flows"]


@pytest.fixture
def wallet_user(headless, evm_wallet, solana_wallet):
    """A wallet-only user with two wallets, signed in with the first."""
    assert sign_in(headless, evm_wallet).status_code == HTTPStatus.OK
    assert sign_in(headless, solana_wallet, "connect").status_code == HTTPStatus.OK
    return User.objects.get()


def test_a_stale_token_cannot_link_a_wallet(logged_in, user):
    thiefs_wallet = EvmWallet()
    early = issue(logged_in, thiefs_wallet, "connect")["message"]  # while still fresh
    age_authentication(logged_in, STALE)

    assert _flows(challenge(logged_in, thiefs_wallet, "connect")) == [{"id": "reauthenticate"}]
    assert _flows(verify(logged_in, thiefs_wallet, early)) == [{"id": "reauthenticate"}]
    assert not Wallet.objects.exists()

    assert logged_in.post("/auth/reauthenticate", {"password": PASSWORD}).status_code == 200
    assert sign_in(logged_in, thiefs_wallet, "connect").status_code == HTTPStatus.OK
    assert Wallet.objects.get().user == user


def test_a_stale_token_cannot_unlink_and_a_signature_steps_up(
    headless, wallet_user, evm_wallet, solana_wallet
):
    age_authentication(headless, STALE)
    body = {"chain": solana_wallet.chain, "address": solana_wallet.address}
    assert _flows(headless.delete(WALLETS, body)) == [{"id": "wallet_reauthenticate"}]
    assert Wallet.objects.count() == 2

    response = sign_in(headless, evm_wallet, "reauthenticate")
    assert response.status_code == HTTPStatus.OK, response.content
    data = response.json()["data"]
    assert data["user"]["id"] == wallet_user.pk
    assert data["methods"][-1] == {
        "method": "wallet",
        "at": data["methods"][-1]["at"],
        "chain": evm_wallet.chain,
        "address": evm_wallet.address,
        "reauthenticated": True,
    }
    assert headless.delete(WALLETS, body).status_code == HTTPStatus.OK
    assert list(Wallet.objects.values_list("address", flat=True)) == [evm_wallet.address]


def test_a_user_with_both_is_offered_both(logged_in, user, evm_wallet):
    sign_in(logged_in, evm_wallet, "connect")
    age_authentication(logged_in, STALE)
    response = logged_in.post("/account/email", {"email": "new@example.com"})
    assert _flows(response) == [{"id": "reauthenticate"}, {"id": "wallet_reauthenticate"}]
    assert sign_in(logged_in, evm_wallet, "reauthenticate").status_code == HTTPStatus.OK
    assert logged_in.post("/account/email", {"email": "new@example.com"}).status_code == 200


def test_only_ones_own_wallet_reauthenticates(logged_in, make_headless, evm_wallet):
    sign_in(make_headless(), evm_wallet)  # somebody else's wallet
    response = challenge(logged_in, evm_wallet, "reauthenticate")
    assert without_messages(response.json()) == error(404, "not_found", "address")
    response = challenge(logged_in, EvmWallet(), "reauthenticate")  # nobody's
    assert without_messages(response.json()) == error(404, "not_found", "address")


def test_reauthenticate_needs_a_signed_in_user(headless, evm_wallet):
    response = challenge(headless, evm_wallet, "reauthenticate")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["meta"] == {"is_authenticated": False}


def test_a_reauthenticate_nonce_neither_signs_in_nor_serves_another_user(
    headless, wallet_user, make_headless, user_factory, evm_wallet
):
    message = issue(headless, evm_wallet, "reauthenticate")["message"]
    stranger = make_headless()
    response = verify(stranger, evm_wallet, message)  # signed out: not a login
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")
    assert stranger.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED

    message = issue(headless, evm_wallet, "reauthenticate")["message"]
    bob = user_factory("bob@example.com")
    other = make_headless()
    other.post("/auth/login", {"email": bob.email, "password": PASSWORD})
    response = verify(other, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")
    assert not Wallet.objects.filter(user=bob).exists()


def test_no_other_nonce_reauthenticates(headless, wallet_user, make_headless, evm_wallet):
    age_authentication(headless, STALE)
    login_message = issue(make_headless(), evm_wallet, "login")["message"]
    response = verify(headless, evm_wallet, login_message)
    assert without_messages(response.json()) == error(409, "already_authenticated")
    newcomer = EvmWallet()
    response = challenge(headless, newcomer, "connect")
    assert _flows(response) == [{"id": "wallet_reauthenticate"}]
    body = {"chain": evm_wallet.chain, "address": evm_wallet.address}
    assert _flows(headless.delete(WALLETS, body)) == [{"id": "wallet_reauthenticate"}]


def test_a_wallet_unlinked_meanwhile_cannot_reauthenticate(
    headless, wallet_user, evm_wallet, solana_wallet
):
    message = issue(headless, solana_wallet, "reauthenticate")["message"]
    Wallet.objects.filter(address=solana_wallet.address).delete()
    response = verify(headless, solana_wallet, message)
    assert without_messages(response.json()) == error(404, "not_found", "address")


def test_the_401_is_documented(schema, headless, wallet_user, evm_wallet, solana_wallet):
    from tests.test_schema import assert_documented

    age_authentication(headless, STALE)
    response = challenge(headless, EvmWallet(), "connect")
    assert_documented(schema, response, headless.kind, "auth/wallet/challenge", "post")
    body = {"chain": solana_wallet.chain, "address": solana_wallet.address}
    response = headless.delete(WALLETS, body)
    assert_documented(schema, response, headless.kind, "account/wallets", "delete")
    response = sign_in(headless, evm_wallet, "reauthenticate")
    assert_documented(schema, response, headless.kind, "auth/wallet/verify", "post")


def test_the_schema_names_the_process_and_the_step_up_401(schema):
    components = schema["components"]["schemas"]
    assert "reauthenticate" in components["ProcessEnum"]["enum"]
    step_up = [
        ("auth/wallet/challenge", "post"),
        ("auth/wallet/verify", "post"),
        ("account/wallets", "delete"),
        ("account/email", "post"),
        ("account/email", "patch"),
        ("account/email", "delete"),
        ("account/password/change", "post"),
        ("auth/sessions", "delete"),
    ]
    for client in ("app", "browser"):
        for path, method in step_up:
            operation = schema["paths"][f"/_allauth/{client}/v1/{path}"][method]
            body = operation["responses"]["401"]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/AuthenticationOrReauthentication"}
