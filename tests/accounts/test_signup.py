from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import EmailAddress, User
from tests.accounts.helpers import anonymous_flows, key_from_mail
from tests.conftest import PASSWORD

NEW = {"email": "New.Person@Example.COM", "password": PASSWORD}


def test_signup_mandatory_verification_pends_then_verifies(headless):
    response = headless.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    body = response.json()
    assert body["data"] == {"flows": anonymous_flows(pending="verify_email")}
    assert body["meta"]["is_authenticated"] is False
    user = User.objects.get()
    assert user.email is None  # a claim until verified
    assert EmailAddress.objects.get(user=user).email == "New.Person@example.com"
    assert user.check_password(PASSWORD)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["New.Person@example.com"]
    message = mail.outbox[0]
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    key = key_from_mail()

    info = headless.get("/auth/email/verify", headers={"X-Email-Verification-Key": key})
    assert info.status_code == HTTPStatus.OK
    assert info.json()["data"]["email"] == "New.Person@example.com"
    assert info.json()["meta"]["is_authenticating"] is True

    token_before = headless.token
    verified = headless.post("/auth/email/verify", {"key": key})
    assert verified.status_code == HTTPStatus.OK
    assert verified.json()["data"]["user"]["email"] == "New.Person@example.com"
    if headless.kind == "app":
        assert verified.json()["meta"]["session_token"] != token_before
    assert EmailAddress.objects.get().verified is True
    user.refresh_from_db()
    assert user.email == "New.Person@example.com"
    # The key works once.
    again = headless.post("/auth/email/verify", {"key": key})
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert again.json()["errors"] == [
        {"code": "invalid_or_expired_key", "message": "Invalid or expired key.", "param": "key"}
    ]


def test_verify_by_link_in_another_client_verifies_without_login(headless, make_headless):
    headless.post("/auth/signup", NEW)
    other = make_headless()
    response = other.post("/auth/email/verify", {"key": key_from_mail()})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert EmailAddress.objects.get().verified is True
    login = other.post("/auth/login", NEW)
    assert login.status_code == HTTPStatus.OK


def test_signup_without_verification_logs_in(headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    response = headless.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["methods"][0]["method"] == "password"
    assert mail.outbox == []


def test_signup_optional_verification_logs_in_and_mails(headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    response = headless.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.OK
    assert len(mail.outbox) == 1


def test_taken_email_looks_like_a_fresh_signup(headless, user):
    response = headless.post("/auth/signup", {"email": user.email.upper(), "password": PASSWORD})
    fresh = headless.__class__(headless.kind).post("/auth/signup", NEW)
    assert response.status_code == fresh.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"] == fresh.json()["data"]
    assert User.objects.count() == 2
    assert "already" in mail.outbox[0].subject.lower()
    assert mail.outbox[0].to == [user.email.upper().split("@")[0] + "@example.com"]


def test_taken_email_is_reported_when_verification_is_not_mandatory(headless, user, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    response = headless.post("/auth/signup", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "email_taken"


def test_signup_closed(headless, settings):
    settings.ACCOUNT_SIGNUP_OPEN = False
    response = headless.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["errors"][0]["code"] == "signup_closed"
    assert headless.get("/config").json()["data"]["account"]["is_open_for_signup"] is False
    assert User.objects.count() == 0


def test_signup_when_logged_in_is_409(logged_in):
    response = logged_in.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "password_too_short"),
        ("password123", "password_too_common"),
        ("8273649182736", "password_entirely_numeric"),
        ("new.person.example", "password_too_similar"),
    ],
)
def test_weak_passwords_are_refused_with_django_codes(headless, password, code):
    response = headless.post("/auth/signup", {"email": NEW["email"], "password": password})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    codes = {e["code"] for e in response.json()["errors"]}
    assert code in codes
    assert all(e["param"] == "password" for e in response.json()["errors"])
    assert User.objects.count() == 0


def test_missing_and_invalid_fields(headless):
    response = headless.post("/auth/signup", {"email": "not-an-email"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = {e["param"]: e["code"] for e in response.json()["errors"]}
    assert errors == {"email": "invalid", "password": "required"}


def test_resend_verification_while_pending(headless, settings):
    settings.ACCOUNT_RATE_LIMITS = ""  # default confirm_email: 1 per 3 minutes per address
    headless.post("/auth/signup", NEW)
    assert len(mail.outbox) == 1
    response = headless.post("/auth/email/verify/resend")
    assert response.status_code == HTTPStatus.OK
    assert len(mail.outbox) == 2
    limited = headless.post("/auth/email/verify/resend")
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(limited["Retry-After"]) > 0


def test_resend_without_pending_verification_is_409(headless):
    assert headless.post("/auth/email/verify/resend").status_code == HTTPStatus.CONFLICT


def test_verification_key_garbage(headless):
    response = headless.get("/auth/email/verify", headers={"X-Email-Verification-Key": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "invalid_or_expired_key"
    missing = headless.get("/auth/email/verify")
    assert missing.json()["errors"][0]["code"] == "required"
