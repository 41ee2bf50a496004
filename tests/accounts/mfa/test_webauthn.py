"""WebAuthn as a second factor over the API, both clients, with a software
key (real P-256 signatures): registration, the sign-in stage, step-up, and
what the server must refuse."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.mfa.models import Authenticator
from accounts.models import AuthEvent, EmailAddress

from .helpers import AUTHENTICATORS, age_authentication, login
from .webauthn_client import (
    WEBAUTHN,
    WEBAUTHN_AUTHENTICATE,
    WEBAUTHN_REAUTHENTICATE,
    Flag,
    SoftKey,
    assert_with,
    register,
)


def _code(response) -> str:
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    return response.json()["errors"][0]["code"]


@pytest.fixture
def key_user(logged_in, user):
    key = SoftKey()
    response = register(logged_in, key, "Phone")
    assert response.status_code == HTTPStatus.OK, response.content
    return user, key


def test_register_then_sign_in_with_the_key(key_user, make_headless):
    user, key = key_user
    row = Authenticator.objects.get(user=user, type="webauthn")
    assert row.data["name"] == "Phone" and row.counter == 1
    client = make_headless()
    response = login(client, user)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    flow = response.json()["data"]["flows"][-1]
    assert flow == {
        "id": "mfa_authenticate",
        "is_pending": True,
        "types": ["recovery_codes", "webauthn"],
    }
    options = client.get(WEBAUTHN_AUTHENTICATE).json()["data"]["request_options"]["publicKey"]
    assert options["rpId"] == "app.example.com"
    assert options["userVerification"] == "preferred"  # allauth's default for a second factor
    assert [c["id"] for c in options["allowCredentials"]] == [row.data["credential_id"]]
    response = assert_with(client, key)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["methods"][-1]["type"] == "webauthn"
    assert Authenticator.objects.get(pk=row.pk).counter == 2
    assert client.get(WEBAUTHN_AUTHENTICATE).status_code == HTTPStatus.CONFLICT  # signed in


def test_options_without_a_pending_sign_in_are_a_401(make_headless, db):
    assert make_headless().get(WEBAUTHN_AUTHENTICATE).status_code == HTTPStatus.UNAUTHORIZED


def test_adding_and_removing_need_a_fresh_authentication(key_user, logged_in):
    user, key = key_user
    age_authentication(logged_in, 3600)
    response = logged_in.get(WEBAUTHN)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["mfa_reauthenticate"]["types"] == ["recovery_codes", "webauthn"]
    row = Authenticator.objects.get(user=user, type="webauthn")
    delete = logged_in.delete(WEBAUTHN, {"authenticators": [row.pk]})
    assert delete.status_code == HTTPStatus.UNAUTHORIZED
    response = assert_with(logged_in, key, WEBAUTHN_REAUTHENTICATE)
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["methods"][-1]["reauthenticated"] is True
    assert AuthEvent.objects.filter(user=user, kind="reauthenticated", method="mfa").exists()
    assert logged_in.delete(WEBAUTHN, {"authenticators": [row.pk]}).status_code == HTTPStatus.OK
    assert logged_in.get(AUTHENTICATORS).json()["data"] == []


def test_a_key_of_another_origin_or_rp_is_refused(logged_in, user):
    for key in (SoftKey(origin="https://evil.example"), SoftKey(rp_id="evil.example")):
        assert _code(register(logged_in, key)) == "incorrect_code"
    assert not Authenticator.objects.filter(user=user).exists()


def test_a_cloned_key_is_refused_and_a_key_without_counter_passes(key_user, make_headless):
    user, key = key_user
    client = make_headless()
    login(client, user)
    key.counter = 0  # a copy from before the registration's count
    assert _code(assert_with(client, key)) == "incorrect_code"
    failed = AuthEvent.objects.filter(user=user, kind="mfa_authenticated", outcome="failure")
    assert failed.exists()
    # A key that never counts (always 0) has nothing to compare: accepted each time.
    owner = make_headless()
    login(owner, user)
    assert owner.post(WEBAUTHN_REAUTHENTICATE, {"credential": {}}).status_code == 401
    flat = SoftKey(counts=False)
    Authenticator.objects.filter(user=user).delete()
    client = make_headless()
    login(client, user)  # no second factor left: signed in
    assert register(client, flat).status_code == HTTPStatus.OK
    for _ in range(2):
        again = make_headless()
        login(again, user)
        assert assert_with(again, flat).status_code == HTTPStatus.OK


def test_a_replayed_assertion_is_refused(key_user, make_headless):
    user, key = key_user
    first = make_headless()
    login(first, user)
    options = first.get(WEBAUTHN_AUTHENTICATE).json()["data"]["request_options"]
    credential = key.get(options)
    assert first.post(WEBAUTHN_AUTHENTICATE, {"credential": credential}).status_code == 200
    second = make_headless()
    login(second, user)
    assert _code(second.post(WEBAUTHN_AUTHENTICATE, {"credential": credential})) == (
        "incorrect_code"
    )


def test_a_passkey_needs_user_verification(logged_in, user):
    options = logged_in.get(WEBAUTHN + "?passwordless").json()["data"]["creation_options"]
    selection = options["publicKey"]["authenticatorSelection"]
    assert selection["residentKey"] == "required"
    assert selection["userVerification"] == "required"
    credential = SoftKey().create(options, flags=Flag.UP)
    assert _code(logged_in.post(WEBAUTHN, {"credential": credential})) == "incorrect_code"


@pytest.mark.parametrize(
    "credential",
    [None, "x", [], {}, {"type": "public-key"}, {"id": "a" * 5000}, {"response": "x"}],
)
def test_junk_credentials_are_a_400(logged_in, credential):
    logged_in.get(WEBAUTHN)
    response = logged_in.post(WEBAUTHN, {"credential": credential})
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content


def test_rename_and_delete_only_own_keys(key_user, logged_in, user_factory):
    user, _key = key_user
    row = Authenticator.objects.get(user=user, type="webauthn")
    other = user_factory("bob@example.com")
    theirs = Authenticator.objects.create(user=other, type="webauthn", data={"name": "Bob's"})
    response = logged_in.put(WEBAUTHN, {"id": theirs.pk, "name": "Mine now"})
    assert _code(response) == "invalid"
    assert _code(logged_in.delete(WEBAUTHN, {"authenticators": [theirs.pk]})) == "invalid"
    assert Authenticator.objects.get(pk=theirs.pk).data["name"] == "Bob's"
    response = logged_in.put(WEBAUTHN, {"id": row.pk, "name": "Work phone"})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["name"] == "Work phone"


def test_no_key_while_an_address_is_unverified(logged_in, user):
    EmailAddress.objects.create(user=user, email="second@example.com")
    response = logged_in.get(WEBAUTHN)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "unverified_email"


LOGIN = "/auth/webauthn/login"


def test_passkey_login_is_off_by_default(make_headless, db):
    client = make_headless()
    assert client.get(LOGIN).status_code == HTTPStatus.NOT_FOUND
    assert client.get("/config").json()["data"]["mfa"]["passkey_login_enabled"] is False


def test_passkey_login(logged_in, user, make_headless, settings, user_factory):
    settings.MFA_PASSKEY_LOGIN_ENABLED = True
    key = SoftKey()
    options = logged_in.get(WEBAUTHN + "?passwordless").json()["data"]["creation_options"]
    assert logged_in.post(WEBAUTHN, {"credential": key.create(options)}).status_code == 200
    client = make_headless()
    options = client.get(LOGIN).json()["data"]["request_options"]
    assert options["publicKey"]["userVerification"] == "required"
    assert not options["publicKey"].get("allowCredentials")
    # Without user verification, or naming another user, it is refused.
    assert _code(client.post(LOGIN, {"credential": key.get(options, flags=Flag.UP)})) == (
        "incorrect_code"
    )
    bob = user_factory("bob@example.com")
    options = client.get(LOGIN).json()["data"]["request_options"]
    credential = key.get(options)
    key.user_handle = str(bob.pk).encode()
    assert _code(client.post(LOGIN, {"credential": key.get(options)})) == "incorrect_code"
    options = client.get(LOGIN).json()["data"]["request_options"]
    key.user_handle = str(user.pk).encode()
    response = client.post(LOGIN, {"credential": key.get(options)})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["user"]["email"] == user.email
    assert _code(make_headless().post(LOGIN, {"credential": credential})) == "incorrect_code"
    assert client.get(LOGIN).status_code == HTTPStatus.CONFLICT


def test_passkey_login_off_is_404_but_an_unknown_method_is_still_405(headless, settings):
    settings.MFA_PASSKEY_LOGIN_ENABLED = False
    assert headless.get("/auth/webauthn/login").status_code == 404
    response = headless.request("TRACE", "/auth/webauthn/login")
    assert response.status_code == 405, response.content
