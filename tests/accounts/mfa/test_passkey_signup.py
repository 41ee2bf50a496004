"""Passkey signup (MFA_PASSKEY_SIGNUP_ENABLED), allauth's flow: an address and a
passkey, no password. The address is verified by the mailed code, then the
passkey (a software key with real P-256 signatures) is registered and signs in."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from accounts.mfa.models import Authenticator
from accounts.models import EmailAddress, User
from tests.accounts.helpers import anonymous_flows, code_from_mail, outbox_to
from tests.accounts.mfa.webauthn_client import Flag, SoftKey

SIGNUP = "/auth/webauthn/signup"
VERIFY = "/auth/email/verify"
LOGIN = "/auth/webauthn/login"
EMAIL = "passkey@example.com"


@pytest.fixture(autouse=True)
def _passkey_signup(settings) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
    settings.MFA_PASSKEY_SIGNUP_ENABLED = True


def _verified(client, email: str = EMAIL):
    """POST the signup and the mailed code: the answer to the code."""
    response = client.post(SIGNUP, {"email": email, "username": "ignored"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert response.json()["data"]["flows"] == anonymous_flows(pending="verify_email")
    return client.post(VERIFY, {"key": code_from_mail(email)})


def _options(client) -> dict:
    response = client.get(SIGNUP)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["data"]["creation_options"]


def test_passkey_signup_then_sign_out_then_passkey_login(headless, settings):
    verified = _verified(headless)
    assert verified.status_code == HTTPStatus.UNAUTHORIZED
    assert verified.json()["data"]["flows"][-1] == {"id": "mfa_signup_webauthn", "is_pending": True}
    user = User.objects.get()
    assert not user.has_usable_password() and user.email == EMAIL

    options = _options(headless)["publicKey"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["name"] == EMAIL
    key = SoftKey()
    done = headless.put(SIGNUP, {"name": "Phone", "credential": key.create({"publicKey": options})})
    assert done.status_code == HTTPStatus.OK, done.content
    [method] = done.json()["data"]["methods"]
    assert (method["method"], method["type"], method["passwordless"]) == ("mfa", "webauthn", True)
    authenticator = Authenticator.objects.get(user=user)
    assert authenticator.type == Authenticator.Type.WEBAUTHN
    assert authenticator.data["name"] == "Phone"
    assert EmailAddress.objects.get(user=user).verified is True

    headless.delete("/auth/session")
    headless.token = None
    settings.MFA_PASSKEY_LOGIN_ENABLED = True
    request_options = headless.get(LOGIN).json()["data"]["request_options"]
    login = headless.post(LOGIN, {"credential": key.get(request_options)})
    assert login.status_code == HTTPStatus.OK
    assert login.json()["data"]["user"]["id"] == user.pk


def test_no_recovery_codes_are_made_at_signup(headless):
    _verified(headless)
    headless.put(SIGNUP, {"credential": SoftKey().create(_options(headless))})
    types = [a["type"] for a in headless.get("/account/authenticators").json()["data"]]
    assert types == ["webauthn"]


def test_a_passkey_without_user_verification_is_refused(headless):
    _verified(headless)
    credential = SoftKey().create(_options(headless), flags=Flag.UP)
    response = headless.put(SIGNUP, {"credential": credential})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "incorrect_code"
    assert not Authenticator.objects.exists()
    assert headless.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_the_credential_for_another_origin_is_refused(headless):
    _verified(headless)
    credential = SoftKey(origin="https://evil.example").create(_options(headless))
    assert headless.put(SIGNUP, {"credential": credential}).status_code == HTTPStatus.BAD_REQUEST


def test_options_and_put_need_the_pending_flow(headless, make_headless):
    credential = SoftKey().create({"publicKey": {"challenge": "AAAA", "user": {"id": "MQ"}}})
    assert headless.get(SIGNUP).status_code == HTTPStatus.CONFLICT
    assert headless.put(SIGNUP, {"credential": credential}).status_code == HTTPStatus.CONFLICT
    # Signed up, not verified yet: still nothing to register.
    headless.post(SIGNUP, {"email": EMAIL})
    assert headless.get(SIGNUP).status_code == HTTPStatus.CONFLICT
    assert headless.put(SIGNUP, {"credential": credential}).status_code == HTTPStatus.CONFLICT
    # Another session of the same (verified) signup has no pending flow.
    headless.post(VERIFY, {"key": code_from_mail(EMAIL)})
    options = _options(headless)
    other = make_headless()
    other_credential = SoftKey().create(options)
    assert other.put(SIGNUP, {"credential": other_credential}).status_code == HTTPStatus.CONFLICT
    assert not Authenticator.objects.exists()


def test_the_challenge_is_spent_once(headless):
    _verified(headless)
    credential = SoftKey().create(_options(headless))
    assert headless.put(SIGNUP, {"credential": credential}).status_code == HTTPStatus.OK
    headless.delete("/auth/session")
    headless.token = None
    assert headless.put(SIGNUP, {"credential": credential}).status_code == HTTPStatus.CONFLICT
    assert Authenticator.objects.count() == 1


def test_signup_with_an_owned_address_answers_as_a_new_one(make_headless, user):
    fresh, taken = make_headless(), make_headless()
    fresh_answer = fresh.post(SIGNUP, {"email": EMAIL})
    taken_answer = taken.post(SIGNUP, {"email": user.email})
    assert taken_answer.status_code == fresh_answer.status_code == HTTPStatus.UNAUTHORIZED
    assert taken_answer.json()["data"] == fresh_answer.json()["data"]
    [exists] = outbox_to(user.email)
    assert "already" in exists.body
    guess = taken.post(VERIFY, {"key": "BCDF-GHJK"})
    assert guess.json() == fresh.post(VERIFY, {"key": "BCDF-GHJK"}).json()
    assert taken.get(SIGNUP).status_code == HTTPStatus.CONFLICT
    assert User.objects.count() == 2  # `user` and the fresh signup; none for the taken one


def test_signed_in_and_disabled_answers(headless, logged_in, settings, make_headless):
    assert logged_in.post(SIGNUP, {"email": EMAIL}).status_code == HTTPStatus.CONFLICT
    settings.MFA_PASSKEY_SIGNUP_ENABLED = False
    other = make_headless()
    for method in ("post", "get", "put"):
        response = getattr(other, method)(SIGNUP)
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert not mail.outbox


def test_passkey_signup_needs_verification_by_code_and_mandatory(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    with pytest.raises(SystemCheckError) as error:
        call_command("check")
    assert "requires ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED" in str(error.value)
    assert "requires ACCOUNT_EMAIL_VERIFICATION = 'mandatory'" in str(error.value)
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    call_command("check")


def test_without_what_it_needs_passkey_signup_stays_shut(headless, settings):
    # A server started without `manage.py check` (which refuses this setup).
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    assert headless.post(SIGNUP, {"email": EMAIL}).status_code == HTTPStatus.NOT_FOUND
    assert headless.get("/config").json()["data"]["mfa"]["passkey_signup_enabled"] is False
    assert not User.objects.exists()


def test_config_says_passkey_signup_is_enabled(headless, settings):
    assert headless.get("/config").json()["data"]["mfa"]["passkey_signup_enabled"] is True
    settings.MFA_PASSKEY_SIGNUP_ENABLED = False
    assert headless.get("/config").json()["data"]["mfa"]["passkey_signup_enabled"] is False
