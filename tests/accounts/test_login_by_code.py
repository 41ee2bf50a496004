"""Login by code (`login_by_code`): a code mailed to the address's owner signs
in, a few attempts, a timeout, and an address nobody owns answers the same."""

from __future__ import annotations

import io
import logging
from http import HTTPStatus

import pytest
from django.core import mail

from accounts.models import EmailAddress, User
from accounts.sessions import PENDING
from tests.accounts.helpers import anonymous_flows
from tests.accounts.mfa.helpers import AUTHENTICATE, activate_totp, code, step_now
from tests.conftest import HeadlessClient

from .code_helpers import CODE, age, code_for, code_in, race, without_token, wrong

REQUEST, CONFIRM, RESEND = "/auth/code/request", "/auth/code/confirm", "/auth/code/resend"


@pytest.fixture(autouse=True)
def _enabled(settings):
    settings.ACCOUNT_LOGIN_BY_CODE_ENABLED = True


def _flows(*, pending: bool) -> list[dict]:
    flows = anonymous_flows()
    by_code = {"id": "login_by_code", "is_pending": True} if pending else {"id": "login_by_code"}
    return [flows[0], by_code, *flows[1:]]


def _pending_answer() -> dict:
    return {
        "status": 401,
        "data": {"flows": _flows(pending=True)},
        "meta": {"is_authenticated": False},
    }


def test_config_and_flows_offer_it(headless, settings):
    assert headless.get("/config").json()["data"]["account"]["login_by_code_enabled"] is True
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)
    settings.ACCOUNT_LOGIN_BY_CODE_ENABLED = False
    assert headless.get("/config").json()["data"]["account"]["login_by_code_enabled"] is False
    assert headless.get("/auth/session").json()["data"]["flows"] == anonymous_flows()


def test_the_mailed_code_signs_in(headless, user):
    response = headless.post(REQUEST, {"email": "Alice@Example.com"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert without_token(response.json()) == _pending_answer()
    [message] = mail.outbox
    assert message.to == [user.email]
    typed = code_for(user.email).lower().replace("-", " ")  # as a user may type it
    response = headless.post(CONFIRM, {"code": typed})
    assert response.status_code == HTTPStatus.OK, response.content
    data = response.json()["data"]
    assert data["user"]["id"] == user.pk
    [method] = data["methods"]
    assert method == {"method": "code", "at": method["at"], "email": user.email}
    assert headless.get("/auth/session").status_code == HTTPStatus.OK
    # The code worked once; the flow is over.
    assert headless.post(CONFIRM, {"code": typed}).status_code == HTTPStatus.CONFLICT


def test_disabled_it_is_not_there(headless, user, settings):
    settings.ACCOUNT_LOGIN_BY_CODE_ENABLED = False
    response = headless.post(REQUEST, {"email": user.email})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert headless.post(RESEND).status_code == HTTPStatus.NOT_FOUND
    assert headless.post(CONFIRM, {"code": "BCDF-GHJK"}).status_code == HTTPStatus.CONFLICT
    assert mail.outbox == []


def test_confirm_without_a_pending_flow_conflicts(headless):
    response = headless.post(CONFIRM, {"code": "BCDF-GHJK"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "conflict"


def test_a_wrong_code_is_refused_and_the_right_one_still_works(headless, user):
    headless.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    response = headless.post(CONFIRM, {"code": wrong(right)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == [
        {"code": "incorrect_code", "message": "Incorrect code.", "param": "code"}
    ]
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=True)
    assert headless.post(CONFIRM, {"code": right}).status_code == HTTPStatus.OK


def test_attempts_used_up_end_the_flow(headless, user, settings):
    headless.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    for _ in range(settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS):
        assert headless.post(CONFIRM, {"code": wrong(right)}).status_code == 400
    # The last wrong attempt ended it, as allauth's: no longer pending, even the right code is 409.
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)
    assert headless.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT
    assert headless.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_an_expired_code_is_refused(headless, user, settings):
    headless.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    age(headless, PENDING, settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 1)
    assert headless.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT
    assert headless.get("/auth/session").json()["data"]["flows"] == _flows(pending=False)


def test_a_new_request_replaces_the_code(headless, user):
    headless.post(REQUEST, {"email": user.email})
    first = code_for(user.email)
    headless.post(REQUEST, {"email": user.email})
    second = code_for(user.email)
    if first != second:
        assert headless.post(CONFIRM, {"code": first}).status_code == HTTPStatus.BAD_REQUEST
    assert headless.post(CONFIRM, {"code": second}).status_code == HTTPStatus.OK


def _drive(client, email: str, *, attempts: int) -> list[tuple[int, dict]]:
    answers = []
    response = client.post(REQUEST, {"email": email})
    answers.append((response.status_code, without_token(response.json())))
    for _ in range(attempts + 1):
        response = client.post(CONFIRM, {"code": "BBBB-BBBB"})
        answers.append((response.status_code, response.json()))
    response = client.get("/auth/session")
    answers.append((response.status_code, response.json()))
    return answers


def test_an_address_nobody_owns_answers_exactly_as_an_owned_one(
    make_headless, user_factory, settings
):
    """Unknown, only claimed (unverified), or an inactive owner's: the same
    answers, request after request, and one mail each (none with a code)."""
    settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 2
    user_factory("owner@example.com")
    user_factory("claimer@example.com")
    EmailAddress.objects.create(
        user=User.objects.get(email="claimer@example.com"), email="claimed@example.com"
    )
    User.objects.filter(pk=user_factory("gone@example.com").pk).update(is_active=False)
    mail.outbox.clear()

    known = _drive(make_headless(), "owner@example.com", attempts=2)
    for address in ("nobody@example.com", "claimed@example.com", "gone@example.com"):
        assert _drive(make_headless(), address, attempts=2) == known, address
    assert [m.to for m in mail.outbox] == [
        ["owner@example.com"],
        ["nobody@example.com"],
        ["claimed@example.com"],
        ["gone@example.com"],
    ]
    assert code_in(mail.outbox[0]) is not None
    assert [code_in(m) for m in mail.outbox[1:]] == [None, None, None]
    assert "no account uses this address" in mail.outbox[1].body


def test_a_claim_never_signs_the_claimer_in(make_headless, user_factory):
    """The mailbox's owner asks for a code: the claimer's account stays shut."""
    claimer = user_factory("claimer@example.com")
    EmailAddress.objects.create(user=claimer, email="victim@example.com")
    client = make_headless()
    client.post(REQUEST, {"email": "victim@example.com"})
    [message] = [m for m in mail.outbox if m.to == ["victim@example.com"]]
    assert code_in(message) is None
    assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_the_owner_is_checked_again_at_confirmation(headless, user):
    headless.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert headless.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT
    assert headless.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_signed_in_it_conflicts(logged_in, user):
    response = logged_in.post(REQUEST, {"email": user.email})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "already_authenticated"


def test_an_mfa_user_stops_at_the_second_factor(logged_in, user, make_headless):
    secret = activate_totp(logged_in)
    client = make_headless()
    client.post(REQUEST, {"email": user.email})
    response = client.post(CONFIRM, {"code": code_for(user.email)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    pending = {"id": "mfa_authenticate", "is_pending": True, "types": ["recovery_codes", "totp"]}
    assert response.json()["data"]["flows"] == [*_flows(pending=False), pending]
    response = client.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.OK, response.content
    assert [m["method"] for m in response.json()["data"]["methods"]] == ["code", "mfa"]


def test_requests_are_rate_limited_per_address(make_headless, user):
    """allauth's `request_login_code` rate: three a minute per address."""
    for _ in range(3):
        assert make_headless().post(REQUEST, {"email": user.email}).status_code == 401
    response = make_headless().post(REQUEST, {"email": user.email})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert len(mail.outbox) == 3


def test_invalid_input(headless):
    for body in ({}, {"email": "not-an-address"}):
        assert headless.post(REQUEST, body).status_code == HTTPStatus.BAD_REQUEST
    headless.post(REQUEST, {"email": "a@example.com"})
    for body in ({}, {"code": ""}, {"code": "x" * 65}):
        assert headless.post(CONFIRM, body).status_code == HTTPStatus.BAD_REQUEST
    assert mail.outbox and len(mail.outbox) == 1


# --- Resend --------------------------------------------------------------------------


def test_resend_is_off_by_default(headless, user):
    headless.post(REQUEST, {"email": user.email})
    assert headless.post(RESEND).status_code == HTTPStatus.CONFLICT
    assert len(mail.outbox) == 1


def test_resend_mails_a_new_code_within_the_quota(headless, user, settings):
    settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
    assert headless.post(RESEND).status_code == HTTPStatus.CONFLICT  # nothing pending
    headless.post(REQUEST, {"email": user.email})
    first = code_for(user.email)
    for _ in range(2):  # allauth's quota
        response = headless.post(RESEND)
        assert response.status_code == HTTPStatus.OK
        assert response.json() == {"status": 200}
    assert headless.post(RESEND).status_code == HTTPStatus.CONFLICT
    assert len(mail.outbox) == 3
    latest = code_for(user.email)
    if first != latest:
        assert headless.post(CONFIRM, {"code": first}).status_code == HTTPStatus.BAD_REQUEST
    assert headless.post(CONFIRM, {"code": latest}).status_code == HTTPStatus.OK


def test_resend_for_an_address_nobody_owns_answers_the_same(make_headless, user, settings):
    settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
    answers = []
    for email in (user.email, "nobody@example.com"):
        client = make_headless()
        client.post(REQUEST, {"email": email})
        response = client.post(RESEND)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == (200, {"status": 200})
    # allauth sends no second "no account here" note.
    assert [m.to for m in mail.outbox] == [[user.email], [user.email], ["nobody@example.com"]]


# --- An attacker's parallel guesses -------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["app", "browser"])
def test_parallel_guesses_compare_at_most_the_allowed_attempts(kind, settings):
    """Twelve clients sharing one session guess at once: at most
    MAX_ATTEMPTS are compared; afterwards even the right code is refused."""
    settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
    user = User.objects.create_user(email="alice@example.com", password="x" * 20)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    owner = HeadlessClient(kind)
    owner.post(REQUEST, {"email": user.email})
    right = code_for(user.email)
    statuses = race(owner, 12, lambda c: c.post(CONFIRM, {"code": wrong(right)}))
    assert statuses.count(HTTPStatus.BAD_REQUEST) == 3  # exactly MAX_ATTEMPTS compared
    assert set(statuses) <= {HTTPStatus.BAD_REQUEST, HTTPStatus.CONFLICT}
    assert owner.post(CONFIRM, {"code": right}).status_code == HTTPStatus.CONFLICT
    assert owner.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


# --- Never in a log --------------------------------------------------------------------


class _Raw(logging.Handler):
    """On `signet.mail` itself: sees each record before the console handler's
    filters, i.e. what a log would hold without redaction."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_code_never_reaches_the_logs(headless, user, settings):
    """With mail written to the log (EMAIL_CONSOLE_IN_PRODUCTION's backend),
    a whole sign-in by code leaves the code in no line the console writes."""
    settings.EMAIL_BACKEND = "config.mail.LogEmailBackend"
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    raw, stream, root = _Raw(), io.StringIO(), logging.getLogger()
    mail_logger, level = logging.getLogger("signet.mail"), root.level
    old_stream = console.setStream(stream)
    mail_logger.addHandler(raw)
    root.setLevel(logging.DEBUG)
    try:
        headless.post(REQUEST, {"email": user.email})
        [logged] = [CODE.search(m) for m in raw.messages]
        assert logged, raw.messages  # the mail was logged, code and all, before redaction
        response = headless.post(CONFIRM, {"code": logged.group(0)})
        assert response.status_code == HTTPStatus.OK  # it was the real code
        headless.get("/auth/session")
    finally:
        root.setLevel(level)
        mail_logger.removeHandler(raw)
        console.setStream(old_stream)
    written = stream.getvalue()
    assert "mail not sent (EMAIL_CONSOLE_IN_PRODUCTION)" in written
    assert "/auth/code/confirm" in written
    assert logged.group(0) not in written
    assert logged.group(0).replace("-", "") not in written
