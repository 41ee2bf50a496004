"""The `mfa_authenticate` login stage: a password or a wallet sign-in of a user
with TOTP stops there, and completes with a TOTP or a recovery code."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import override_settings

from accounts.mfa.models import Authenticator
from accounts.models import AuthEvent
from tests.accounts.helpers import anonymous_flows
from tests.wallets import helpers as wallet_helpers
from tests.wallets.conftest import EvmWallet

from .helpers import (
    AUTHENTICATE,
    RECOVERY,
    activate_totp,
    age_pending,
    code,
    login,
    step_now,
)

PENDING = {"id": "mfa_authenticate", "is_pending": True, "types": ["recovery_codes", "totp"]}


@pytest.fixture
def mfa_user(logged_in, user):
    """`user` with TOTP active, and its secret and recovery codes."""
    secret = activate_totp(logged_in)
    codes = logged_in.get(RECOVERY).json()["data"]["unused_codes"]
    return user, secret, codes


def _stops_at_the_stage(response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    body = response.json()
    assert body["data"]["flows"] == [*anonymous_flows(), PENDING]
    assert body["meta"]["is_authenticated"] is False


def test_password_login_stops_then_completes_with_totp(mfa_user, make_headless):
    user, secret, _codes = mfa_user
    client = make_headless()
    response = login(client, user)
    _stops_at_the_stage(response)
    if client.kind == "app":
        assert response.json()["meta"]["session_token"] == client.token  # sent with the code
    assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED  # not signed in
    response = client.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    password, mfa = body["data"]["methods"]
    assert password == {"method": "password", "at": password["at"], "email": user.email}
    totp_id = Authenticator.objects.get(user=user, type="totp").pk
    assert mfa == {"method": "mfa", "at": mfa["at"], "id": totp_id, "type": "totp"}
    assert client.get("/auth/session").status_code == HTTPStatus.OK
    assert AuthEvent.objects.filter(user=user, kind="mfa_authenticated").exists()
    assert Authenticator.objects.get(pk=totp_id).last_used_at is not None


def test_a_replayed_code_is_refused(mfa_user, make_headless):
    user, secret, _codes = mfa_user
    first, second = make_headless(), make_headless()
    used = code(secret, step_now() + 1)
    login(first, user)
    assert first.post(AUTHENTICATE, {"code": used}).status_code == HTTPStatus.OK
    login(second, user)
    response = second.post(AUTHENTICATE, {"code": used})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "incorrect_code"
    # An older code after a newer one is refused as well.
    assert second.post(AUTHENTICATE, {"code": code(secret)}).status_code == 400
    # The stage is still pending: the right (next) code completes it.
    _stops_at_the_stage(second.get("/auth/session"))


def test_a_recovery_code_works_once(mfa_user, make_headless):
    user, _secret, codes = mfa_user
    assert len(codes) == 10 and all(len(c) == 8 and c.isdigit() for c in codes)
    client = make_headless()
    login(client, user)
    response = client.post(AUTHENTICATE, {"code": f"{codes[3][:4]} {codes[3][4:]}"})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["methods"][-1]["type"] == "recovery_codes"
    listed = client.get("/account/authenticators").json()["data"]
    assert [a.get("unused_code_count") for a in listed] == [None, 9]
    again = make_headless()
    login(again, user)
    assert again.post(AUTHENTICATE, {"code": codes[3]}).status_code == HTTPStatus.BAD_REQUEST
    assert again.post(AUTHENTICATE, {"code": codes[4]}).status_code == HTTPStatus.OK


@override_settings(ACCOUNT_RATE_LIMITS="mfa_authenticate=3/5m/user")
def test_wrong_codes_are_rate_limited_per_user(mfa_user, make_headless):
    user, secret, _codes = mfa_user
    client = make_headless()
    login(client, user)
    wrong = code(secret, step_now() + 9)
    for _ in range(3):
        assert client.post(AUTHENTICATE, {"code": wrong}).status_code == HTTPStatus.BAD_REQUEST
    # Another client (another IP even) for the same user shares the count.
    other = make_headless()
    other.http.defaults["REMOTE_ADDR"] = "198.51.100.9"
    login(other, user)
    response = other.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert response.json()["errors"][0]["code"] == "rate_limited"
    failures = AuthEvent.objects.filter(user=user, kind="mfa_authenticated", outcome="failure")
    assert failures.count() == 3


def test_the_stage_times_out(mfa_user, make_headless, settings):
    user, secret, _codes = mfa_user
    client = make_headless()
    login(client, user)
    age_pending(client, settings.ACCOUNT_LOGIN_TIMEOUT + 1)
    response = client.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows()


def test_without_a_pending_stage(headless, user):
    response = headless.post(AUTHENTICATE, {"code": "123456"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows()


def test_a_password_change_voids_the_stage(mfa_user, make_headless):
    user, secret, _codes = mfa_user
    client = make_headless()
    login(client, user)
    user.set_password("another long passphrase 42")
    user.save()
    response = client.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_no_stage_without_totp(logged_in, user, make_headless):
    activate_totp(logged_in)
    assert logged_in.delete("/account/authenticators/totp").status_code == HTTPStatus.OK
    assert login(make_headless(), user).status_code == HTTPStatus.OK


def test_wallet_login_stops_then_completes(make_headless):
    wallet = EvmWallet()
    client = make_headless()
    response = wallet_helpers.sign_in(client, wallet)
    assert response.status_code == HTTPStatus.OK, response.content  # a new wallet-only user
    secret = activate_totp(client)  # the wallet sign-in is recent enough to allow it
    client.delete("/auth/session")
    again = make_headless()
    response = wallet_helpers.sign_in(again, wallet)
    _stops_at_the_stage(response)
    response = again.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.OK, response.content
    wallet_record, mfa = response.json()["data"]["methods"]
    assert wallet_record["method"] == "wallet" and wallet_record["address"] == wallet.address
    assert mfa["method"] == "mfa" and mfa["type"] == "totp"


def test_wallet_login_completes_with_a_recovery_code(make_headless):
    wallet = EvmWallet()
    client = make_headless()
    wallet_helpers.sign_in(client, wallet)
    activate_totp(client)
    codes = client.get(RECOVERY).json()["data"]["unused_codes"]
    again = make_headless()
    _stops_at_the_stage(wallet_helpers.sign_in(again, wallet))
    response = again.post(AUTHENTICATE, {"code": codes[0]})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["methods"][-1]["type"] == "recovery_codes"


def test_another_users_codes_do_not_complete_my_sign_in(mfa_user, user_factory, make_headless):
    _user, secret, codes = mfa_user
    victim = user_factory(email="bob@example.com")
    owner = make_headless()
    login(owner, victim)
    bob_secret = activate_totp(owner)
    client = make_headless()
    _stops_at_the_stage(login(client, victim))
    for attempt in (code(secret, step_now() + 1), codes[0]):
        assert client.post(AUTHENTICATE, {"code": attempt}).status_code == HTTPStatus.BAD_REQUEST
    assert client.post(AUTHENTICATE, {"code": code(bob_secret, step_now() + 1)}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_recovery_code_let_one_in(mfa_user):
    """Two workers racing with the same code: the row lock serialises them."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from accounts.mfa.flows.manage import recovery_code_use

    user, _secret, codes = mfa_user
    row_pk = Authenticator.objects.get(user=user, type="recovery_codes").pk

    def attempt(_):
        try:
            return recovery_code_use(Authenticator.objects.get(pk=row_pk), codes[5])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(attempt, range(4)))
    assert results.count(True) == 1
