"""Email verification by code (ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED), as
allauth's headless API does it: the code mailed, typed back into the same
session; attempts counted in Redis; claims handled as by the link."""

from __future__ import annotations

import logging
from collections import Counter
from http import HTTPStatus

import pytest
from django.core import mail

from accounts import codes
from accounts.codes import Purpose
from accounts.flows.email_verification_by_code import SESSION_KEY
from accounts.models import EmailAddress, User
from accounts.redis import redis_client, redis_key
from tests.accounts.code_helpers import race, session_of, wrong
from tests.accounts.helpers import CODE, anonymous_flows, code_from_mail, has_link, outbox_to
from tests.accounts.mfa.helpers import activate_totp, step_now
from tests.accounts.mfa.helpers import code as totp_code
from tests.conftest import PASSWORD, HeadlessClient

NEW = {"email": "new@example.com", "password": PASSWORD}
VERIFY = "/auth/email/verify"
RESEND = "/auth/email/verify/resend"
INCORRECT = [{"code": "incorrect_code", "message": "Incorrect code.", "param": "key"}]


@pytest.fixture(autouse=True)
def _by_code(settings) -> None:
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True


def test_signup_mails_a_code_and_the_code_signs_in(headless):
    response = headless.post("/auth/signup", NEW)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"] == {"flows": anonymous_flows(pending="verify_email")}
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and not has_link(message)
    code = code_from_mail("new@example.com")
    assert code in message.alternatives[0][0]

    info = headless.get(VERIFY, headers={"X-Email-Verification-Key": code.lower()})
    assert info.status_code == HTTPStatus.OK
    assert info.json()["data"]["email"] == "new@example.com"
    assert info.json()["meta"] == {"is_authenticating": True}

    verified = headless.post(VERIFY, {"key": code.replace("-", " ")})  # as typed
    assert verified.status_code == HTTPStatus.OK
    assert verified.json()["data"]["user"]["email"] == "new@example.com"
    assert EmailAddress.objects.get().verified is True
    assert User.objects.get().email == "new@example.com"
    # Used once; a signed-in session has no process left to complete.
    assert headless.post(VERIFY, {"key": code}).status_code == HTTPStatus.CONFLICT


def test_config_says_verification_is_by_code(headless):
    account = headless.get("/config").json()["data"]["account"]
    assert account["email_verification_by_code_enabled"] is True


def test_the_code_is_the_sessions_own(headless, make_headless):
    headless.post("/auth/signup", NEW)
    code = code_from_mail("new@example.com")
    other = make_headless()
    response = other.post(VERIFY, {"key": code})
    assert response.status_code == HTTPStatus.CONFLICT
    assert EmailAddress.objects.get().verified is False
    assert headless.post(VERIFY, {"key": code}).status_code == HTTPStatus.OK


def test_a_link_key_is_no_code(headless, settings):
    headless.post("/auth/signup", NEW)
    response = headless.post(VERIFY, {"key": "a-link-key:1abc:xyz"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == INCORRECT


def test_wrong_codes_spend_the_attempts_then_the_process_is_gone(headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 3
    headless.post("/auth/signup", NEW)
    code = code_from_mail("new@example.com")
    info = headless.get(VERIFY, headers={"X-Email-Verification-Key": wrong(code)})
    assert info.status_code == HTTPStatus.BAD_REQUEST and info.json()["errors"] == INCORRECT
    for _ in range(2):
        response = headless.post(VERIFY, {"key": wrong(code)})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json()["errors"] == INCORRECT
    # The third wrong attempt ended it (allauth's abort): the right code is too late.
    assert headless.post(VERIFY, {"key": code}).status_code == HTTPStatus.CONFLICT
    session = headless.get("/auth/session").json()
    assert session["data"]["flows"] == anonymous_flows()
    assert headless.post(RESEND).status_code == HTTPStatus.CONFLICT
    assert EmailAddress.objects.get().verified is False


def test_a_right_code_shown_by_get_is_not_an_attempt(headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 1
    headless.post("/auth/signup", NEW)
    code = code_from_mail("new@example.com")
    for _ in range(3):
        info = headless.get(VERIFY, headers={"X-Email-Verification-Key": code})
        assert info.status_code == HTTPStatus.OK
    assert headless.post(VERIFY, {"key": code}).status_code == HTTPStatus.OK


def test_an_expired_code_is_gone(headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = 120
    headless.post("/auth/signup", NEW)
    code = code_from_mail("new@example.com")
    code_id = session_of(headless)[SESSION_KEY]["id"]
    key = redis_key("code", Purpose.VERIFY_EMAIL.value, code_id)
    assert 0 < redis_client().ttl(key) <= 120
    redis_client().delete(key)  # what the TTL does at 120 s
    assert headless.post(VERIFY, {"key": code}).status_code == HTTPStatus.CONFLICT
    assert EmailAddress.objects.get().verified is False


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_in_one_session_compare_at_most_max_attempts(client_kind, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = 3
    racers = 16
    starter = HeadlessClient(client_kind)
    starter.post("/auth/signup", NEW)
    code = code_from_mail("new@example.com")
    guesses = [f"{'BCDFGHJKLMNPQRST'[i]}BBB-BBBB" for i in range(racers)]
    assert code not in guesses
    pending = iter(guesses)  # one guess each: next() on a list iterator is atomic
    statuses = Counter(race(starter, racers, lambda c: c.post(VERIFY, {"key": next(pending)})))
    assert statuses == {HTTPStatus.BAD_REQUEST: 3, HTTPStatus.CONFLICT: racers - 3}
    assert starter.post(VERIFY, {"key": code}).status_code == HTTPStatus.CONFLICT
    assert EmailAddress.objects.get().verified is False


def test_resend_mails_a_new_code_and_ends_the_old(headless, settings):
    settings.ACCOUNT_RATE_LIMITS = "off"
    headless.post("/auth/signup", NEW)
    first = code_from_mail("new@example.com")
    assert headless.post(RESEND).json() == {"status": 200}
    second = code_from_mail("new@example.com")
    assert len(mail.outbox) == 2 and second != first
    assert headless.post(VERIFY, {"key": first}).json()["errors"] == INCORRECT
    assert headless.post(VERIFY, {"key": second}).status_code == HTTPStatus.OK


def test_resend_has_allauths_quota_and_the_addresss_cooldown(headless, settings):
    settings.ACCOUNT_RATE_LIMITS = "confirm_email=1/3m/key"
    headless.post("/auth/signup", NEW)
    assert headless.post(RESEND).status_code == HTTPStatus.OK
    assert headless.post(RESEND).status_code == HTTPStatus.TOO_MANY_REQUESTS
    settings.ACCOUNT_RATE_LIMITS = "off"
    assert headless.post(RESEND).status_code == HTTPStatus.OK
    assert headless.post(RESEND).status_code == HTTPStatus.CONFLICT  # two resends: allauth's
    assert len(mail.outbox) == 3
    assert headless.post(VERIFY, {"key": code_from_mail("new@example.com")}).status_code == 200


def _answer(response) -> tuple:
    body = response.json()
    return response.status_code, body["data"], body["meta"]["is_authenticated"]


def test_signup_with_an_owned_address_answers_as_a_new_one(make_headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "off"
    fresh, taken = make_headless(), make_headless()
    fresh_answer = fresh.post("/auth/signup", NEW)
    taken_answer = taken.post("/auth/signup", {"email": user.email, "password": PASSWORD})
    assert _answer(taken_answer) == _answer(fresh_answer)
    [exists] = outbox_to(user.email)  # the owner hears of it; no code goes out
    assert not CODE.search(exists.body) and "already" in exists.body
    guess = "BCDF-GHJK"
    assert taken.post(VERIFY, {"key": guess}).json() == fresh.post(VERIFY, {"key": guess}).json()
    info = taken.get(VERIFY, headers={"X-Email-Verification-Key": guess})
    assert info.status_code == HTTPStatus.BAD_REQUEST and info.json()["errors"] == INCORRECT
    assert taken.post(RESEND).json() == fresh.post(RESEND).json() == {"status": 200}
    assert len(outbox_to(user.email)) == 1
    assert taken.get("/auth/session").json() == fresh.get("/auth/session").json()


def test_login_of_an_unverified_signup_mails_a_code(headless, make_headless):
    make_headless().post("/auth/signup", NEW)
    response = headless.post("/auth/login", NEW)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows(pending="verify_email")
    assert len(outbox_to("new@example.com")) == 2
    verified = headless.post(VERIFY, {"key": code_from_mail("new@example.com")})
    assert verified.status_code == HTTPStatus.OK
    assert [m["method"] for m in verified.json()["data"]["methods"]] == ["password"]


def test_verifying_by_code_stops_at_the_second_factor(headless, user):
    headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    secret = activate_totp(headless)
    headless.delete("/auth/session")
    headless.token = None  # the app client drops the ended session's token
    EmailAddress.objects.filter(user=user).update(verified=False)
    headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    response = headless.post(VERIFY, {"key": code_from_mail(user.email)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"][-1]["id"] == "mfa_authenticate"
    done = headless.post("/auth/2fa/authenticate", {"code": totp_code(secret, step_now() + 1)})
    assert done.status_code == HTTPStatus.OK


def test_the_first_to_verify_owns_and_the_other_claim_is_dropped(make_headless):
    first, second = make_headless(), make_headless()
    first.post("/auth/signup", NEW)
    first_code = code_from_mail("new@example.com")
    second.post("/auth/signup", NEW)
    second_code = code_from_mail("new@example.com")
    assert second.post(VERIFY, {"key": second_code}).status_code == HTTPStatus.OK
    assert first.post(VERIFY, {"key": first_code}).json()["errors"] == INCORRECT
    owner = EmailAddress.objects.get()
    assert owner.verified and owner.user_id == User.objects.get().pk


def test_adding_an_address_while_signed_in_verifies_by_code(logged_in, make_headless):
    response = logged_in.post("/account/email", {"email": "second@example.com"})
    assert response.status_code == HTTPStatus.OK
    assert {"email": "second@example.com", "primary": False, "verified": False} in (
        response.json()["data"]
    )
    code = code_from_mail("second@example.com")
    info = logged_in.get(VERIFY, headers={"X-Email-Verification-Key": code})
    assert info.json()["meta"] == {"is_authenticating": False}
    verified = logged_in.post(VERIFY, {"key": code})
    assert verified.status_code == HTTPStatus.OK
    assert verified.json()["meta"]["is_authenticated"] is True
    assert EmailAddress.objects.get(email="second@example.com").verified is True


def test_adding_someone_elses_address_answers_the_same(logged_in, user_factory):
    user_factory("bob@example.com")
    response = logged_in.post("/account/email", {"email": "bob@example.com"})
    assert response.status_code == HTTPStatus.OK
    [notice] = outbox_to("bob@example.com")
    assert not CODE.search(notice.body)
    attempt = logged_in.post(VERIFY, {"key": "BCDF-GHJK"})
    assert attempt.status_code == HTTPStatus.BAD_REQUEST and attempt.json()["errors"] == INCORRECT
    assert EmailAddress.objects.get(email="bob@example.com", verified=True).user.email == (
        "bob@example.com"
    )


def test_the_code_is_never_logged(headless, caplog, settings):
    settings.ACCOUNT_RATE_LIMITS = "off"
    caplog.set_level(logging.DEBUG)
    headless.post("/auth/signup", NEW)
    headless.post(RESEND)
    code = code_from_mail("new@example.com")
    headless.get(VERIFY, headers={"X-Email-Verification-Key": code})
    headless.post(VERIFY, {"key": wrong(code)})
    headless.post(VERIFY, {"key": code})
    assert caplog.records
    raw = code.replace("-", "")
    for record in caplog.records:
        text = record.getMessage() + repr(record.__dict__)
        assert code not in text and raw not in text
    assert not [k for k in session_of(headless).keys() if code in repr(session_of(headless)[k])]


def test_peek_compares_without_taking_and_counts_only_wrong_codes(db):
    code_id, code = codes.issue(Purpose.VERIFY_EMAIL, timeout=60)
    for _ in range(5):
        assert codes.peek(Purpose.VERIFY_EMAIL, code_id, code, max_attempts=2) is codes.Result.OK
    assert codes.peek(Purpose.VERIFY_EMAIL, code_id, wrong(code), max_attempts=2) is (
        codes.Result.WRONG
    )
    assert codes.check(Purpose.VERIFY_EMAIL, code_id, code, max_attempts=2) is codes.Result.OK
    assert codes.peek(Purpose.VERIFY_EMAIL, code_id, code, max_attempts=2) is codes.Result.GONE
    # Of another purpose, a code is nothing.
    other_id, other = codes.issue(Purpose.LOGIN, timeout=60)
    assert codes.peek(Purpose.VERIFY_EMAIL, other_id, other, max_attempts=2) is codes.Result.GONE
