"""process "connect", /account/wallets and the last-login-method guard."""

from __future__ import annotations

from http import HTTPStatus

from django.test import override_settings

from accounts.models import EmailAddress, User
from tests.accounts.helpers import key_from_mail
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import (
    WALLETS,
    error,
    issue,
    sign_in,
    verify,
    without_messages,
)
from wallets.models import Wallet


def _addresses(response) -> list[str]:
    return [wallet["address"] for wallet in response.json()["data"]]


def test_connect_links_the_wallet_to_the_signed_in_user(logged_in, user, any_wallet):
    response = sign_in(logged_in, any_wallet, "connect")
    assert response.status_code == HTTPStatus.OK, response.content
    data = response.json()["data"]
    wallet = Wallet.objects.get(user=user)
    assert data["user"]["wallets"] == [
        {
            "id": wallet.pk,
            "chain": wallet.chain,
            "address": any_wallet.address,
            "account_id": f"{wallet.chain}:{any_wallet.address}",
            "created_at": wallet.created_at.timestamp(),
            "last_used_at": wallet.last_used_at.timestamp(),
        }
    ]
    assert [m["method"] for m in data["methods"]] == ["password"]  # still that session
    assert logged_in.get(WALLETS).json() == {"status": 200, "data": data["user"]["wallets"]}


def test_linked_wallet_then_signs_in_to_that_user(logged_in, make_headless, user, any_wallet):
    sign_in(logged_in, any_wallet, "connect")
    response = sign_in(make_headless(), any_wallet)
    assert response.json()["data"]["user"]["id"] == user.pk
    assert response.json()["data"]["user"]["email"] == user.email


def test_connecting_twice_is_harmless(logged_in, evm_wallet):
    sign_in(logged_in, evm_wallet, "connect")
    assert sign_in(logged_in, evm_wallet, "connect").status_code == HTTPStatus.OK
    assert Wallet.objects.count() == 1


def test_wallet_of_another_user_is_already_linked(logged_in, make_headless, evm_wallet):
    owner = sign_in(make_headless(), evm_wallet).json()["data"]["user"]["id"]
    response = sign_in(logged_in, evm_wallet, "connect")
    assert response.status_code == HTTPStatus.CONFLICT
    assert without_messages(response.json()) == error(409, "wallet_already_linked", "address")
    assert Wallet.objects.get().user_id == owner


def test_a_login_challenge_cannot_complete_a_connect(logged_in, make_headless, user, evm_wallet):
    message = issue(make_headless(), evm_wallet, "login")["message"]
    response = verify(logged_in, evm_wallet, message)
    assert without_messages(response.json()) == error(409, "already_authenticated")
    assert not Wallet.objects.exists()


def test_a_connect_challenge_cannot_complete_a_login(logged_in, make_headless, evm_wallet):
    message = issue(logged_in, evm_wallet, "connect")["message"]
    response = verify(make_headless(), evm_wallet, message)
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")
    assert not Wallet.objects.exists()
    assert User.objects.count() == 1


def test_another_users_connect_challenge_is_refused(
    logged_in, make_headless, user_factory, evm_wallet
):
    message = issue(logged_in, evm_wallet, "connect")["message"]
    bob = user_factory("bob@example.com")
    other = make_headless()
    other.post("/auth/login", {"email": bob.email, "password": PASSWORD})
    response = verify(other, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")
    assert not Wallet.objects.exists()
    # ...and it is spent: not even its user can use it now.
    response = verify(logged_in, evm_wallet, message)
    assert without_messages(response.json()) == error(400, "challenge_not_found", "message")


def test_wallets_need_a_signed_in_user(headless):
    for method in (headless.get, headless.delete):
        response = method(WALLETS)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["data"]["flows"][-1] == {"id": "wallet_login"}


def test_unlink_a_wallet_when_a_password_remains(logged_in, evm_wallet, solana_wallet):
    sign_in(logged_in, evm_wallet, "connect")
    sign_in(logged_in, solana_wallet, "connect")
    response = logged_in.delete(WALLETS, {"chain": "eip155:1", "address": evm_wallet.address})
    assert response.status_code == HTTPStatus.OK
    assert _addresses(response) == [solana_wallet.address]
    body = {"chain": "solana:mainnet", "address": solana_wallet.address}
    assert logged_in.delete(WALLETS, body).json() == {"status": 200, "data": []}


def test_unlink_an_evm_wallet_from_any_evm_chain_in_any_case(logged_in, evm_wallet):
    sign_in(logged_in, evm_wallet, "connect")
    body = {"chain": "eip155:8453", "address": evm_wallet.address.lower()}
    assert logged_in.delete(WALLETS, body).json() == {"status": 200, "data": []}


def test_last_wallet_of_a_wallet_only_user_stays(headless, any_wallet):
    sign_in(headless, any_wallet)
    response = headless.delete(WALLETS, {"chain": any_wallet.chain, "address": any_wallet.address})
    assert response.status_code == HTTPStatus.CONFLICT
    assert without_messages(response.json()) == error(409, "last_login_method", "address")
    assert Wallet.objects.count() == 1


def test_a_wallet_only_user_may_unlink_all_but_one(headless, evm_wallet, cosmos_wallet):
    sign_in(headless, evm_wallet)
    sign_in(headless, cosmos_wallet, "connect")
    first = {"chain": "eip155:1", "address": evm_wallet.address}
    assert _addresses(headless.delete(WALLETS, first)) == [cosmos_wallet.address]
    last = {"chain": "cosmos:cosmoshub-4", "address": cosmos_wallet.address}
    response = headless.delete(WALLETS, last)
    assert without_messages(response.json()) == error(409, "last_login_method", "address")


def test_a_password_without_verified_email_is_no_way_in(logged_in, user, evm_wallet):
    sign_in(logged_in, evm_wallet, "connect")
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = logged_in.delete(WALLETS, {"chain": "eip155:1", "address": evm_wallet.address})
    assert without_messages(response.json()) == error(409, "last_login_method", "address")


def test_unlink_unknown_or_malformed(logged_in, make_headless, evm_wallet):
    sign_in(make_headless(), evm_wallet)  # somebody else's wallet
    body = {"chain": "eip155:1", "address": evm_wallet.address}
    response = logged_in.delete(WALLETS, body)
    assert without_messages(response.json()) == error(404, "not_found", "address")
    response = logged_in.delete(WALLETS, {"chain": "eip155:1", "address": "0x12"})
    assert without_messages(response.json()) == error(400, "invalid_address", "address")
    response = logged_in.delete(WALLETS, {"chain": "nope", "address": "0x12"})
    assert without_messages(response.json()) == error(400, "unsupported_chain", "chain")
    response = logged_in.delete(WALLETS, {})
    assert response.json()["errors"][0]["code"] == "required"
    assert Wallet.objects.count() == 1


@override_settings(WALLET_CHAINS=["solana:mainnet"])
def test_unlink_works_for_a_chain_no_longer_enabled(logged_in, user):
    wallet = EvmWallet()
    Wallet.objects.create(user=user, namespace="eip155", chain="eip155:1", address=wallet.address)
    body = {"chain": "eip155:1", "address": wallet.address}
    assert logged_in.delete(WALLETS, body).json() == {"status": 200, "data": []}


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_wallet_only_user_adds_email_and_password(headless, make_headless, evm_wallet):
    user_id = sign_in(headless, evm_wallet).json()["data"]["user"]["id"]
    response = headless.post("/account/email", {"email": "carol@example.com"})
    assert response.json()["data"] == [
        {"email": "carol@example.com", "primary": True, "verified": False}
    ]
    assert headless.post("/auth/email/verify", {"key": key_from_mail()}).status_code == 200
    response = headless.post("/account/password/change", {"new_password": PASSWORD})
    assert response.status_code == HTTPStatus.OK, response.content
    user = response.json()["data"]["user"]
    assert (user["id"], user["email"], user["has_usable_password"]) == (
        user_id,
        "carol@example.com",
        True,
    )
    # Now the wallet may go: email and password remain.
    body = {"chain": "eip155:1", "address": evm_wallet.address}
    assert headless.delete(WALLETS, body).json() == {"status": 200, "data": []}
    other = make_headless()
    login = other.post("/auth/login", {"email": "carol@example.com", "password": PASSWORD})
    assert login.json()["data"]["user"]["id"] == user_id
