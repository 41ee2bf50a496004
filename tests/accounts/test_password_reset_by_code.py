"""Password reset by code (`password_reset_by_code`): the code takes the link's
place, for the address's owner only, and an address nobody owns answers the same."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import EmailAddress, User
from accounts.sessions import PASSWORD_RESET_CODE
from tests.accounts.helpers import anonymous_flows
from tests.conftest import PASSWORD, HeadlessClient

from .code_helpers import age, code_for, code_in, race, without_token, wrong

REQUEST, RESET = "/auth/password/request", "/auth/password/reset"
NEW_PASSWORD = "a whole new passphrase 42"
KEY = "X-Password-Reset-Key"


@pytest.fixture(autouse=True)
def _enabled(settings):
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True


def _flows(*, pending: bool) -> list[dict]:
    entry = {"id": "password_reset_by_code"}
    return [*anonymous_flows(), {**entry, "is_pending": True} if pending else entry]


def test_config_and_flows(headless):
    config = headless.get("/config").json()["data"]["account"]
    assert config["password_reset_by_code_enabled"] is True
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)


def test_the_mailed_code_resets_the_password(headless, make_headless, user):
    other = make_headless()
    other.post("/auth/login", {"email": user.email, "password": PASSWORD})
    response = headless.post(REQUEST, {"email": "ALICE@example.com"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert without_token(response.json()) == {
        "status": 401,
        "data": {"flows": _flows(pending=True)},
        "meta": {"is_authenticated": False},
    }
    [message] = mail.outbox
    assert message.to == [user.email] and "/account/password/reset/key/" not in message.body
    code = code_for(user.email)

    info = headless.get(RESET, headers={KEY: code.lower()})
    assert info.status_code == HTTPStatus.OK, info.content
    assert info.json()["data"]["user"]["id"] == user.pk
    # The SPA then posts the same code with the new password.
    weak = headless.post(RESET, {"key": code, "password": "123"})
    assert weak.status_code == HTTPStatus.BAD_REQUEST  # refused; the confirmed code still holds
    response = headless.post(RESET, {"key": code, "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert response.json()["data"]["flows"] == _flows(pending=False)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert other.get("/auth/session").status_code in (HTTPStatus.GONE, HTTPStatus.UNAUTHORIZED)
    again = headless.post(RESET, {"key": code, "password": NEW_PASSWORD + "!"})
    assert again.status_code == HTTPStatus.CONFLICT


def test_post_without_get_takes_the_code_too(headless, user):
    headless.post(REQUEST, {"email": user.email})
    response = headless.post(RESET, {"key": code_for(user.email), "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_different_key_after_confirmation_ends_the_flow(headless, user):
    headless.post(REQUEST, {"email": user.email})
    code = code_for(user.email)
    assert headless.get(RESET, headers={KEY: code}).status_code == HTTPStatus.OK
    response = headless.post(RESET, {"key": wrong(code), "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert headless.post(RESET, {"key": code, "password": NEW_PASSWORD}).status_code == 409
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_without_a_pending_flow_it_conflicts(headless):
    assert headless.get(RESET, headers={KEY: "BCDF-GHJK"}).status_code == HTTPStatus.CONFLICT
    response = headless.post(RESET, {"key": "BCDF-GHJK", "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "conflict"


def test_wrong_codes_use_up_the_attempts(headless, user, settings):
    headless.post(REQUEST, {"email": user.email})
    code = code_for(user.email)
    response = headless.get(RESET, headers={KEY: wrong(code)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {"code": "incorrect_code", "message": "Incorrect code.", "param": "key"}
    ]
    for _ in range(settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS - 1):
        response = headless.post(RESET, {"key": wrong(code), "password": NEW_PASSWORD})
        assert response.status_code == HTTPStatus.BAD_REQUEST
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)
    assert headless.get(RESET, headers={KEY: code}).status_code == HTTPStatus.CONFLICT
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_expired_code_is_refused(headless, user, settings):
    headless.post(REQUEST, {"email": user.email})
    code = code_for(user.email)
    age(headless, PASSWORD_RESET_CODE, settings.ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT + 1)
    assert headless.get(RESET, headers={KEY: code}).status_code == HTTPStatus.CONFLICT
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)


def _drive(client, email: str, attempts: int) -> list:
    answers = []
    response = client.post(REQUEST, {"email": email})
    answers.append((response.status_code, without_token(response.json())))
    for _ in range(attempts + 1):
        response = client.get(RESET, headers={KEY: "BBBB-BBBB"})
        answers.append((response.status_code, response.json()))
    return answers


def test_an_address_nobody_owns_answers_exactly_as_an_owned_one(
    make_headless, user_factory, settings
):
    user_factory("owner@example.com")
    claimer = user_factory("claimer@example.com")
    EmailAddress.objects.create(user=claimer, email="claimed@example.com")
    User.objects.filter(pk=user_factory("gone@example.com").pk).update(is_active=False)
    mail.outbox.clear()
    attempts = settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS

    known = _drive(make_headless(), "owner@example.com", attempts)
    for address in ("nobody@example.com", "claimed@example.com", "gone@example.com"):
        assert _drive(make_headless(), address, attempts) == known, address
    assert [m.to[0] for m in mail.outbox] == [
        "owner@example.com",
        "nobody@example.com",
        "claimed@example.com",
        "gone@example.com",
    ]
    assert code_in(mail.outbox[0]) is not None
    assert [code_in(m) for m in mail.outbox[1:]] == [None, None, None]
    claimer.refresh_from_db()
    assert claimer.check_password(PASSWORD)


def test_links_stay_the_default(headless, user, settings):
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
    response = headless.post(REQUEST, {"email": user.email})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": 200}
    assert "/account/password/reset/key/" in mail.outbox[0].body
    assert code_in(mail.outbox[0]) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["app", "browser"])
def test_parallel_guesses_compare_at_most_the_allowed_attempts(kind, settings):
    settings.ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = True
    user = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    owner = HeadlessClient(kind)
    owner.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    statuses = race(owner, 12, lambda c: c.get(RESET, headers={KEY: wrong(right)}))
    attempts = settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS
    assert statuses.count(HTTPStatus.BAD_REQUEST) == attempts  # exactly that many compared
    assert set(statuses) <= {HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT}
    assert owner.get(RESET, headers={KEY: right}).status_code == HTTPStatus.CONFLICT
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
