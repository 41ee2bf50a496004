from __future__ import annotations

from http import HTTPStatus

from django.core import mail

from accounts.models import EmailAddress
from tests.accounts.helpers import key_from_mail
from tests.conftest import PASSWORD

NEW_PASSWORD = "a whole new passphrase 42"


def test_reset_request_is_the_same_for_known_and_unknown(headless, user):
    known = headless.post("/auth/password/request", {"email": user.email})
    unknown = headless.post("/auth/password/request", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == HTTPStatus.OK
    assert known.json() == unknown.json() == {"status": 200}
    assert [m.to for m in mail.outbox] == [[user.email], ["ghost@example.com"]]
    assert "/account/password/reset/key/" in mail.outbox[0].body
    assert "/account/password/reset/key/" not in mail.outbox[1].body


def test_reset_with_key_ends_every_session(headless, make_headless, user):
    other = make_headless()
    other.post("/auth/login", {"email": user.email, "password": PASSWORD})
    headless.post("/auth/password/request", {"email": user.email})
    key = key_from_mail()

    info = headless.get("/auth/password/reset", headers={"X-Password-Reset-Key": key})
    assert info.status_code == HTTPStatus.OK
    assert info.json()["data"]["user"]["email"] == user.email

    response = headless.post("/auth/password/reset", {"key": key, "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert other.get("/auth/session").status_code in (HTTPStatus.GONE, HTTPStatus.UNAUTHORIZED)
    # The key is single-use: the password it was made for is gone.
    again = headless.post("/auth/password/reset", {"key": key, "password": NEW_PASSWORD + "!"})
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert again.json()["errors"][0]["code"] == "invalid_or_expired_key"
    assert (
        headless.post("/auth/login", {"email": user.email, "password": NEW_PASSWORD}).status_code
        == HTTPStatus.OK
    )


def test_an_unverified_address_gets_no_reset(headless, user_factory):
    """A claim is not ownership: the mailbox's owner must not be handed a key
    to the account that merely claims the address."""
    user = user_factory(verified=False)
    response = headless.post("/auth/password/request", {"email": user.email})
    assert response.json() == {"status": 200}
    assert mail.outbox[-1].to == [user.email]
    assert "/account/password/reset/key/" not in mail.outbox[-1].body
    assert EmailAddress.objects.get(user=user).verified is False


def test_reset_rejects_weak_password_and_keeps_the_key(headless, user):
    headless.post("/auth/password/request", {"email": user.email})
    key = key_from_mail()
    weak = headless.post("/auth/password/reset", {"key": key, "password": "123"})
    assert weak.status_code == HTTPStatus.BAD_REQUEST
    assert {e["code"] for e in weak.json()["errors"]} >= {"password_too_short"}
    ok = headless.post("/auth/password/reset", {"key": key, "password": NEW_PASSWORD})
    assert ok.status_code == HTTPStatus.UNAUTHORIZED


def test_bad_reset_keys(headless):
    for key in ("", "zz", "1-abc", "!!!-x", "1" * 40 + "-x"):
        response = headless.get("/auth/password/reset", headers={"X-Password-Reset-Key": key})
        assert response.status_code == HTTPStatus.BAD_REQUEST, key
        assert response.json()["errors"][0]["param"] == "key"


def test_change_password_rotates_and_ends_other_sessions(logged_in, make_headless, user):
    other = make_headless()
    other.post("/auth/login", {"email": user.email, "password": PASSWORD})
    token = logged_in.token
    response = logged_in.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == HTTPStatus.OK
    if logged_in.kind == "app":
        assert response.json()["meta"]["session_token"] != token
        stale = logged_in.get("/auth/session", headers={"X-Session-Token": token})
        assert stale.status_code == HTTPStatus.GONE
    assert logged_in.get("/auth/session").status_code == HTTPStatus.OK
    assert other.get("/auth/session").status_code in (HTTPStatus.GONE, HTTPStatus.UNAUTHORIZED)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_change_password_checks_the_current_one(logged_in):
    response = logged_in.post(
        "/account/password/change", {"current_password": "wrong", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "enter_current_password"
    missing = logged_in.post("/account/password/change", {"new_password": NEW_PASSWORD})
    assert missing.json()["errors"][0] == {
        "code": "required",
        "message": "Please type your current password.",
        "param": "current_password",
    }


def test_set_password_without_a_usable_one(headless, user, sign_in):
    user.set_unusable_password()
    user.save()
    sign_in(headless, user)
    response = headless.post("/account/password/change", {"new_password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["user"]["has_usable_password"] is True
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_needs_a_session(headless):
    response = headless.post("/account/password/change", {"new_password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
