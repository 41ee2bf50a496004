"""Reauthentication by code (`reauthenticate_by_code`): a signed-in user steps
up with a code mailed to one of their verified addresses."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import EmailAddress
from accounts.sessions import REAUTHENTICATION_CODE
from tests.accounts.helpers import age_authentication

from .code_helpers import age, code_for, wrong

REQUEST = "/auth/reauthenticate/code/request"
CONFIRM = "/auth/reauthenticate/code/confirm"
RESEND = "/auth/reauthenticate/code/resend"
STALE = 301  # the default ACCOUNT_REAUTHENTICATION_TIMEOUT is 300
SENSITIVE = ("/account/email", {"email": "new@example.com"})


@pytest.fixture(autouse=True)
def _enabled(settings):
    settings.ACCOUNT_LOGIN_BY_CODE_ENABLED = True


@pytest.fixture
def stale(logged_in, user):
    """Signed in longer ago than the step-up allows, with a second verified
    address and an unverified claim."""
    EmailAddress.objects.create(user=user, email="work@example.com", verified=True)
    EmailAddress.objects.create(user=user, email="unverified@example.com")
    age_authentication(logged_in, STALE)
    mail.outbox.clear()
    return logged_in


RECIPIENTS = [{"email": "alice@example.com"}, {"email": "work@example.com"}]


def test_the_401_offers_it_with_the_verified_addresses(stale, user):
    response = stale.post(*SENSITIVE)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == [
        {"id": "reauthenticate"},
        {"id": "reauthenticate_by_code", "recipients": RECIPIENTS},
    ]


def test_not_offered_while_login_by_code_is_off(stale, settings):
    settings.ACCOUNT_LOGIN_BY_CODE_ENABLED = False
    assert stale.post(*SENSITIVE).json()["data"]["flows"] == [{"id": "reauthenticate"}]
    response = stale.post(REQUEST, {"email": "alice@example.com"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert mail.outbox == []


def test_the_mailed_code_steps_up(stale, user):
    response = stale.post(REQUEST, {"email": "Work@Example.com"})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": 200}
    [message] = mail.outbox
    assert message.to == ["work@example.com"]
    flows = stale.post(*SENSITIVE).json()["data"]["flows"]
    assert {"id": "reauthenticate_by_code", "recipients": RECIPIENTS, "is_pending": True} in flows
    response = stale.post(CONFIRM, {"code": code_for("work@example.com")})
    assert response.status_code == HTTPStatus.OK, response.content
    methods = response.json()["data"]["methods"]
    assert methods[-1] == {
        "method": "code",
        "at": methods[-1]["at"],
        "email": "work@example.com",
        "reauthenticated": True,
    }
    assert stale.post(*SENSITIVE).status_code == HTTPStatus.OK  # the change goes through
    assert stale.post(CONFIRM, {"code": "BCDF-GHJK"}).status_code == HTTPStatus.CONFLICT


def test_only_a_verified_address_of_the_user(stale, user_factory):
    user_factory("other@example.com")
    for email in ("unverified@example.com", "other@example.com", "nobody@example.com"):
        response = stale.post(REQUEST, {"email": email})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == [
            {
                "code": "unknown_email",
                "message": "This is not one of your verified addresses.",
                "param": "email",
            }
        ]
    assert stale.post(REQUEST, {}).status_code == HTTPStatus.BAD_REQUEST
    assert mail.outbox == []


def test_wrong_codes_then_the_flow_is_gone(stale, settings):
    stale.post(REQUEST, {"email": "alice@example.com"})
    right = code_for("alice@example.com")
    response = stale.post(CONFIRM, {"code": wrong(right)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "incorrect_code"
    for _ in range(settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS - 1):
        assert stale.post(CONFIRM, {"code": wrong(right)}).status_code == 400
    assert stale.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT
    assert stale.post(*SENSITIVE).status_code == HTTPStatus.UNAUTHORIZED


def test_an_expired_code_is_refused(stale, settings):
    stale.post(REQUEST, {"email": "alice@example.com"})
    right = code_for("alice@example.com")
    age(stale, REAUTHENTICATION_CODE, settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 1)
    assert stale.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT


def test_signed_out_it_answers_401(headless):
    for path, body in ((REQUEST, {"email": "a@example.com"}), (CONFIRM, {"code": "x"})):
        response = headless.post(path, body)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["meta"]["is_authenticated"] is False
    assert headless.post(RESEND).status_code == HTTPStatus.UNAUTHORIZED


def test_resend_within_the_quota(stale, settings):
    assert stale.post(RESEND).status_code == HTTPStatus.CONFLICT  # nothing pending
    stale.post(REQUEST, {"email": "alice@example.com"})
    assert stale.post(RESEND).status_code == HTTPStatus.CONFLICT  # off by default, as allauth
    settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
    first = code_for("alice@example.com")
    assert stale.post(RESEND).json() == {"status": 200}
    assert stale.post(RESEND).status_code == HTTPStatus.OK
    assert stale.post(RESEND).status_code == HTTPStatus.CONFLICT
    assert len(mail.outbox) == 3
    latest = code_for("alice@example.com")
    if latest != first:
        assert stale.post(CONFIRM, {"code": first}).status_code == HTTPStatus.BAD_REQUEST
    assert stale.post(CONFIRM, {"code": latest}).status_code == HTTPStatus.OK


def test_requests_are_rate_limited(stale):
    for _ in range(3):
        assert stale.post(REQUEST, {"email": "alice@example.com"}).status_code == 200
    response = stale.post(REQUEST, {"email": "alice@example.com"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert len(mail.outbox) == 3
