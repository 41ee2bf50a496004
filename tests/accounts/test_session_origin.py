"""Unlinking a wallet or removing an address ends the sessions it signed in,
the current one excepted (API.md v1.1; issue 9, item 13)."""

from __future__ import annotations

from http import HTTPStatus

from accounts.models import EmailAddress, UserSession
from tests.accounts.helpers import key_for
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import sign_in

WALLETS = "/account/wallets"


def _alive(client) -> bool:
    status = client.get("/auth/session").status_code
    assert status in (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED, HTTPStatus.GONE)
    return status == HTTPStatus.OK


def _password_login(client, email: str) -> None:
    response = client.post("/auth/login", {"email": email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK, response.content


def test_unlinking_a_wallet_ends_the_sessions_it_signed_in(make_headless, user):
    by_password, by_wallet, thief = make_headless(), make_headless(), make_headless()
    wallet = EvmWallet()
    _password_login(by_password, user.email)
    assert sign_in(by_password, wallet, "connect").status_code == HTTPStatus.OK
    for client in (by_wallet, thief):
        assert sign_in(client, wallet).json()["data"]["user"]["id"] == user.pk

    # From a session the wallet itself signed in: that one stays.
    body = {"chain": "eip155:137", "address": wallet.address}
    assert by_wallet.delete(WALLETS, body).status_code == HTTPStatus.OK
    assert _alive(by_wallet) and _alive(by_password)
    assert not _alive(thief)
    assert UserSession.objects.filter(user=user).count() == 2


def test_unlinking_from_another_session_ends_all_the_wallets_sessions(make_headless, user):
    by_password, by_wallet = make_headless(), make_headless()
    wallet = EvmWallet()
    _password_login(by_password, user.email)
    sign_in(by_password, wallet, "connect")
    sign_in(by_wallet, wallet)
    body = {"chain": wallet.chain, "address": wallet.address}
    assert by_password.delete(WALLETS, body).status_code == HTTPStatus.OK
    assert _alive(by_password) and not _alive(by_wallet)


def test_removing_an_address_ends_the_sessions_it_signed_in(make_headless, user):
    EmailAddress.objects.create(user=user, email="second@example.com", verified=True)
    current, other, by_primary = make_headless(), make_headless(), make_headless()
    _password_login(current, "second@example.com")
    _password_login(other, "SECOND@example.com")
    _password_login(by_primary, user.email)

    removed = current.delete("/account/email", {"email": "second@example.com"})
    assert removed.status_code == HTTPStatus.OK
    assert _alive(current) and _alive(by_primary)
    assert not _alive(other)
    # Nor does the address sign in any more.
    gone = make_headless().post(
        "/auth/login", {"email": "second@example.com", "password": PASSWORD}
    )
    assert gone.json()["errors"][0]["code"] == "email_password_mismatch"


def test_a_dropped_claim_ends_the_sessions_it_signed_in(make_headless, user_factory, settings):
    """With optional verification a signup signs in before verifying; when
    someone else proves the address, that way in closes."""
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    claimer = make_headless()
    signup = claimer.post("/auth/signup", {"email": "shared@example.com", "password": PASSWORD})
    assert signup.status_code == HTTPStatus.OK
    owner = make_headless()
    owner.post("/auth/signup", {"email": "shared@example.com", "password": PASSWORD + "!"})
    verified = owner.post("/auth/email/verify", {"key": key_for("shared@example.com")})
    assert verified.status_code == HTTPStatus.OK
    assert _alive(owner) and not _alive(claimer)
