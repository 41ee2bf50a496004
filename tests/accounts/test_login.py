from __future__ import annotations

from http import HTTPStatus

from django.contrib.auth.hashers import make_password
from django.core import mail

from accounts.hashers import SignetArgon2PasswordHasher
from accounts.models import User
from tests.accounts.helpers import anonymous_flows
from tests.conftest import PASSWORD

MISMATCH = {
    "status": 400,
    "errors": [
        {
            "code": "email_password_mismatch",
            "message": "The email address and/or password you specified are not correct.",
        }
    ],
}


def test_login_rotates_the_token(headless, user):
    anonymous = headless.post("/auth/login", {"email": "x@example.com", "password": "nope"})
    assert anonymous.status_code == HTTPStatus.BAD_REQUEST
    response = headless.post("/auth/login", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    if headless.kind == "app":
        token = response.json()["meta"]["session_token"]
        assert token and len(token) >= 32
    else:
        assert "session_token" not in response.json()["meta"]
        assert response.cookies["sessionid"].value


def test_wrong_password_and_unknown_email_answer_the_same(headless, user):
    wrong = headless.post("/auth/login", {"email": user.email, "password": "wrong password!"})
    unknown = headless.post("/auth/login", {"email": "ghost@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == HTTPStatus.BAD_REQUEST
    assert wrong.json() == unknown.json() == MISMATCH


def test_unknown_email_costs_a_password_hash_too(headless, user, monkeypatch):
    """No timing oracle: both paths run the (real) argon2 hasher once."""
    calls = []
    real = SignetArgon2PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(1)
        return real(self, password, salt)

    monkeypatch.setattr(SignetArgon2PasswordHasher, "encode", counting)
    real_verify = SignetArgon2PasswordHasher.verify
    monkeypatch.setattr(
        SignetArgon2PasswordHasher,
        "verify",
        lambda self, p, e: calls.append(1) or real_verify(self, p, e),
    )
    headless.post("/auth/login", {"email": user.email, "password": "wrong password!"})
    known = len(calls)
    calls.clear()
    headless.post("/auth/login", {"email": "ghost@example.com", "password": "wrong password!"})
    assert known == len(calls) == 1


def test_inactive_user_cannot_log_in(headless, user):
    user.is_active = False
    user.save()
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.json() == MISMATCH


def test_unverified_login_pends_when_verification_is_mandatory(headless, user_factory):
    user = user_factory(verified=False)
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows(pending="verify_email")
    assert len(mail.outbox) == 1


def test_unverified_login_is_fine_when_optional(headless, user_factory, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    user = user_factory(verified=False)
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK


def test_login_when_logged_in_is_409(logged_in, user):
    response = logged_in.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "already_authenticated"


def test_old_hashes_upgrade_on_login(headless, user):
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    assert (
        headless.post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code
        == HTTPStatus.OK
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_django_default_argon2_params_upgrade_too(headless, user):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    user.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert "m=102400" in user.password
    user.save()
    assert (
        headless.post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code
        == HTTPStatus.OK
    )
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password


def test_reauthenticate(logged_in, user):
    wrong = logged_in.post("/auth/reauthenticate", {"password": "nope"})
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert wrong.json()["errors"][0] == {
        "code": "incorrect_password",
        "message": "Incorrect password.",
        "param": "password",
    }
    response = logged_in.post("/auth/reauthenticate", {"password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    methods = response.json()["data"]["methods"]
    assert methods[-1]["reauthenticated"] is True


def test_reauthenticate_requires_a_session(headless):
    response = headless.post("/auth/reauthenticate", {"password": PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_user_model_email_is_case_insensitively_unique(db):
    import pytest
    from django.db import IntegrityError

    User.objects.create_user(email="a@example.com", password=PASSWORD)
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="A@example.com", password=PASSWORD)
