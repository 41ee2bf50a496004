"""WebAuthn as a second factor, with real ceremonies: Debian's headless
Chromium and its DevTools virtual authenticator (ctap2, internal, resident
keys, user verification), against the live server, through the app API.

Register a key after a password (and after a wallet) sign-in, sign out, sign
in again: the password stops at `mfa_authenticate`, the key completes it.
Passkey signup: an address verified by its mailed code, then the passkey the
browser makes, then passkey login with it. And
what an attacker tries: a replayed assertion, one made for another origin or
RP ID, and a cloned key whose counter went backwards.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest

from accounts.mfa.models import Authenticator
from accounts.models import AuthEvent, EmailAddress, User
from tests.accounts.helpers import code_from_mail
from tests.browser.conftest import LiveApiClient
from tests.browser.webauthn_harness import Harness
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import sign_in as wallet_sign_in

EMAIL = "alice@example.com"
WEBAUTHN = "/account/authenticators/webauthn"
AUTHENTICATE = "/auth/webauthn/authenticate"
REAUTHENTICATE = "/auth/webauthn/reauthenticate"
PENDING = {"id": "mfa_authenticate", "is_pending": True, "types": ["recovery_codes", "webauthn"]}


@pytest.fixture
def harness(page: Any, live_server, settings) -> Harness:
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    # The attacks below fail more often than the per-user limit (5 in 5 min)
    # allows; the limit itself is the TOTP tests' business.
    settings.ACCOUNT_RATE_LIMITS = "mfa_authenticate=50/m/ip,50/5m/user"
    assert live_server.url.startswith("http://localhost:")
    return Harness(page, live_server.url)


def _password_login(api: LiveApiClient):
    return api.post("/auth/login", {"email": EMAIL, "password": PASSWORD})


def _stopped_at_the_stage(response) -> None:
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert PENDING in response.json()["data"]["flows"]


def _register(harness: Harness, api: LiveApiClient, name: str = "Laptop") -> dict:
    result = harness.run(api, "create", WEBAUTHN, extra={"name": name})
    assert result["status"] == HTTPStatus.OK, result
    return result["body"]


def _error(result: dict) -> str:
    assert result["status"] == HTTPStatus.BAD_REQUEST, result
    (error,) = result["body"]["errors"]
    assert error["param"] == "credential"
    return error["code"]


def test_second_factor_after_a_password_login(harness, make_api, settings) -> None:
    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
    api = make_api()
    assert _password_login(api).status_code == HTTPStatus.OK

    body = _register(harness, api)
    key = Authenticator.objects.get(user=user, type="webauthn")
    # A second factor asks for no resident key, so Chromium reports no credProps.
    assert body["data"] == {
        "type": "webauthn",
        "id": key.pk,
        "name": "Laptop",
        "created_at": body["data"]["created_at"],
        "last_used_at": None,
    }
    assert body["meta"] == {"recovery_codes_generated": True}
    assert key.counter > 0  # this authenticator counts: clones are detectable
    added = AuthEvent.objects.filter(user=user, kind="mfa_authenticator_added")
    assert {e.detail["type"] for e in added} == {"webauthn", "recovery_codes"}
    listed = api.get("/account/authenticators").json()["data"]
    assert [a["type"] for a in listed] == ["webauthn", "recovery_codes"]

    # Sign out; the password alone no longer signs in.
    api.request("DELETE", "/auth/session")
    second = make_api()
    _stopped_at_the_stage(_password_login(second))
    result = harness.run(second, "get", AUTHENTICATE)
    assert result["status"] == HTTPStatus.OK, result
    password, mfa = result["body"]["data"]["methods"]
    assert password["method"] == "password"
    assert mfa == {"method": "mfa", "at": mfa["at"], "id": key.pk, "type": "webauthn"}
    assert second.get("/auth/session").status_code == HTTPStatus.OK
    assert AuthEvent.objects.filter(user=user, kind="mfa_authenticated", outcome="success")
    key.refresh_from_db()
    assert key.last_used_at is not None
    used = result["credential"]

    # A replayed assertion: posted again, with or without fresh options, it is refused.
    third = make_api()
    _stopped_at_the_stage(_password_login(third))
    assert third.post(AUTHENTICATE, {"credential": used}).status_code == HTTPStatus.BAD_REQUEST
    assert third.get(AUTHENTICATE).status_code == HTTPStatus.OK  # a new challenge
    replay = third.post(AUTHENTICATE, {"credential": used})
    assert replay.status_code == HTTPStatus.BAD_REQUEST
    assert replay.json()["errors"][0]["code"] == "incorrect_code"
    assert AuthEvent.objects.filter(user=user, kind="mfa_authenticated", outcome="failure")
    _stopped_at_the_stage(third.get("/auth/session"))

    # An assertion made for this origin, checked by a server expecting another
    # origin, then another RP ID: refused, and its challenge is spent.
    for setting, value in (
        ("WEBAUTHN_ORIGINS", ["https://app.example.com"]),
        ("WEBAUTHN_RP_ID", "app.localhost"),
    ):
        captured = harness.run(third, "get", AUTHENTICATE, post=False)["credential"]
        original = getattr(settings, setting)
        setattr(settings, setting, value)
        refused = third.post(AUTHENTICATE, {"credential": captured})
        setattr(settings, setting, original)
        assert refused.status_code == HTTPStatus.BAD_REQUEST, (setting, refused.content)
        assert third.post(AUTHENTICATE, {"credential": captured}).status_code == 400

    # A cloned key: the same private key with a counter from before its last use.
    (stored,) = harness.credentials()
    harness.set_sign_count(stored, 0)
    assert _error(harness.run(third, "get", AUTHENTICATE)) == "incorrect_code"
    _stopped_at_the_stage(third.get("/auth/session"))
    harness.set_sign_count(stored, stored["signCount"])  # the genuine key goes on
    result = harness.run(third, "get", AUTHENTICATE)
    assert result["status"] == HTTPStatus.OK, result

    # Reauthenticate with the key; then rename it and remove it.
    result = harness.run(third, "get", REAUTHENTICATE)
    assert result["status"] == HTTPStatus.OK, result
    assert result["body"]["data"]["methods"][-1]["reauthenticated"] is True
    renamed = third.request("PUT", WEBAUTHN, {"id": key.pk, "name": "Old laptop"})
    assert renamed.status_code == HTTPStatus.OK, renamed.content
    assert renamed.json()["data"]["name"] == "Old laptop"
    assert AuthEvent.objects.filter(user=user, kind="mfa_authenticator_renamed").exists()
    removed = third.request("DELETE", WEBAUTHN, {"authenticators": [key.pk]})
    assert removed.status_code == HTTPStatus.OK, removed.content
    assert not Authenticator.objects.filter(user=user).exists()  # recovery codes went too
    assert AuthEvent.objects.filter(user=user, kind="mfa_authenticator_removed").count() == 2
    assert _password_login(make_api()).status_code == HTTPStatus.OK


def test_second_factor_after_a_wallet_login(harness, make_api) -> None:
    wallet = EvmWallet()
    api = make_api()
    assert wallet_sign_in(api, wallet).status_code == HTTPStatus.OK
    body = _register(harness, api, name="")
    assert body["data"]["name"] == "Master key"  # allauth's default name

    again = make_api()
    _stopped_at_the_stage(wallet_sign_in(again, wallet))
    result = harness.run(again, "get", AUTHENTICATE)
    assert result["status"] == HTTPStatus.OK, result
    first, mfa = result["body"]["data"]["methods"]
    assert (first["method"], mfa["type"]) == ("wallet", "webauthn")


def test_passkey_login(harness, make_api, settings) -> None:
    settings.MFA_PASSKEY_LOGIN_ENABLED = True
    user = User.objects.create_user(email=EMAIL, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
    api = make_api()
    assert _password_login(api).status_code == HTTPStatus.OK
    result = harness.run(api, "create", WEBAUTHN + "?passwordless", extra={"name": "Passkey"})
    assert result["status"] == HTTPStatus.OK, result
    assert result["body"]["data"]["is_passwordless"] is True  # a resident key (credProps.rk)
    selection = result["options"]["data"]["creation_options"]["publicKey"]
    assert selection["authenticatorSelection"]["userVerification"] == "required"
    api.request("DELETE", "/auth/session")

    # No email, no password: the browser offers the discoverable key.
    anonymous = make_api()
    flows = anonymous.get("/auth/session").json()["data"]["flows"]
    assert {"id": "mfa_login_webauthn"} in flows
    result = harness.run(anonymous, "get", "/auth/webauthn/login")
    assert result["status"] == HTTPStatus.OK, result
    (method,) = result["body"]["data"]["methods"]
    assert (method["method"], method["type"], method["passwordless"]) == ("mfa", "webauthn", True)
    assert result["body"]["data"]["user"]["email"] == EMAIL
    assert anonymous.get("/auth/session").status_code == HTTPStatus.OK
    # The same assertion again: its challenge is spent.
    replay = make_api().post("/auth/webauthn/login", {"credential": result["credential"]})
    assert replay.status_code == HTTPStatus.BAD_REQUEST


def test_passkey_signup_then_passkey_login(harness, make_api, settings) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
    settings.MFA_PASSKEY_SIGNUP_ENABLED = True
    settings.MFA_PASSKEY_LOGIN_ENABLED = True
    new = "passkey@example.com"
    api = make_api()
    started = api.post("/auth/webauthn/signup", {"email": new})
    assert started.status_code == HTTPStatus.UNAUTHORIZED, started.content
    assert {"id": "verify_email", "is_pending": True} in started.json()["data"]["flows"]
    verified = api.post("/auth/email/verify", {"key": code_from_mail(new)})
    assert verified.status_code == HTTPStatus.UNAUTHORIZED, verified.content
    assert {"id": "mfa_signup_webauthn", "is_pending": True} in verified.json()["data"]["flows"]

    # The browser makes the passkey (a resident key, user verified) and PUTs it.
    result = harness.run(
        api, "create", "/auth/webauthn/signup", extra={"name": "Passkey"}, method="PUT"
    )
    assert result["status"] == HTTPStatus.OK, result
    selection = result["options"]["data"]["creation_options"]["publicKey"]
    assert selection["authenticatorSelection"]["residentKey"] == "required"
    (method,) = result["body"]["data"]["methods"]
    assert (method["method"], method["type"], method["passwordless"]) == ("mfa", "webauthn", True)
    (stored,) = harness.credentials()
    assert stored["isResidentCredential"] is True
    user = User.objects.get(email=new)
    assert not user.has_usable_password()
    key = Authenticator.objects.get(user=user)
    assert (key.data["name"], key.data["passwordless"]) == ("Passkey", True)
    api.request("DELETE", "/auth/session")

    # Signed out, back in with the passkey alone.
    anonymous = make_api()
    result = harness.run(anonymous, "get", "/auth/webauthn/login")
    assert result["status"] == HTTPStatus.OK, result
    assert result["body"]["data"]["user"]["email"] == new
    assert anonymous.get("/auth/session").status_code == HTTPStatus.OK
