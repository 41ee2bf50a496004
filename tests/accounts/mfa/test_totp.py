"""TOTP set-up and removal over the API, for both clients, with real codes."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from accounts.mfa import crypto, totp
from accounts.mfa.models import Authenticator
from accounts.models import AuthEvent, EmailAddress

from .helpers import (
    AUTHENTICATORS,
    REAUTHENTICATE,
    TOTP,
    activate_totp,
    age_authentication,
    code,
    hotp,
    secret_from_url,
    step_now,
)

# RFC 6238 Appendix B, SHA-1: the 8-digit values; 6-digit codes are their last six.
RFC_KEY = b"12345678901234567890"
RFC_VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924")]


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_codes_follow_rfc_6238(at, expected):
    # The tests' own implementation first, then the server's against it.
    assert hotp(RFC_KEY, at // 30, digits=8) == expected
    import base64

    secret = base64.b32encode(RFC_KEY).decode()
    assert totp.matching_step(secret, expected[-6:], now=at) == at // 30
    assert totp.matching_step(secret, expected[-6:], now=at + 30) == at // 30  # one step late
    assert totp.matching_step(secret, expected[-6:], now=at + 60) is None  # two: too late


def test_config_lists_the_supported_types(headless):
    mfa = headless.get("/config").json()["data"]["mfa"]
    assert mfa == {
        "supported_types": ["recovery_codes", "totp", "webauthn"],
        "passkey_login_enabled": False,
        "passkey_signup_enabled": False,
    }


def test_setup_shows_a_new_secret_as_404(logged_in):
    assert logged_in.get(AUTHENTICATORS).json() == {"status": 200, "data": []}
    response = logged_in.get(TOTP)
    assert response.status_code == HTTPStatus.NOT_FOUND
    body = response.json()
    assert set(body) == {"status", "meta"} and body["status"] == 404
    meta = body["meta"]
    assert set(meta) == {"secret", "totp_url", "totp_svg", "totp_svg_data_uri"}
    assert meta["totp_url"].startswith("otpauth://totp/")
    assert secret_from_url(meta["totp_url"]) == meta["secret"]
    assert "issuer=testserver" in meta["totp_url"] and "alice%40example.com" in meta["totp_url"]
    assert "<svg" in meta["totp_svg"]
    assert meta["totp_svg_data_uri"].startswith("data:image/svg+xml;base64,")
    # Each GET draws a new secret: only the latest one can be activated.
    assert logged_in.get(TOTP).json()["meta"]["secret"] != meta["secret"]
    stale = logged_in.post(TOTP, {"code": code(meta["secret"])})
    assert stale.status_code == HTTPStatus.BAD_REQUEST


def test_activate_with_a_real_code(logged_in, user):
    secret = activate_totp(logged_in)
    response = logged_in.get(TOTP)
    assert response.status_code == HTTPStatus.OK
    data = response.json()["data"]
    assert data["type"] == "totp" and data["last_used_at"] is None
    assert isinstance(data["created_at"], float)
    listed = logged_in.get(AUTHENTICATORS).json()["data"]
    assert [a["type"] for a in listed] == ["totp", "recovery_codes"]  # codes come with it
    assert listed[1]["total_code_count"] == 10 and listed[1]["unused_code_count"] == 10
    assert "unused_codes" not in listed[1]
    # Encrypted at rest: neither the secret nor its base32 text is in the row.
    row = Authenticator.objects.get(user=user, type="totp")
    assert secret not in json.dumps(row.data)
    assert crypto.decrypt(row.data["secret"]) == secret
    kinds = list(AuthEvent.objects.filter(user=user).values_list("kind", "detail"))
    assert ("mfa_authenticator_added", {"type": "totp"}) in kinds
    assert ("mfa_authenticator_added", {"type": "recovery_codes"}) in kinds


def test_a_wrong_code_does_not_activate(logged_in, user):
    secret = logged_in.get(TOTP).json()["meta"]["secret"]
    wrong = code(secret, step_now() + 5)
    response = logged_in.post(TOTP, {"code": wrong})
    assert response.json() == {
        "status": 400,
        "errors": [{"code": "incorrect_code", "message": "Incorrect code.", "param": "code"}],
    }
    for junk in ["", "12345", "abcdef", "1" * 64]:
        assert logged_in.post(TOTP, {"code": junk}).status_code == HTTPStatus.BAD_REQUEST
    assert logged_in.post(TOTP, {"code": "1" * 65}).json()["errors"][0]["param"] == "code"
    assert not Authenticator.objects.filter(user=user).exists()


def test_activating_twice_conflicts(logged_in):
    activate_totp(logged_in)
    response = logged_in.post(TOTP, {"code": "123456"})
    assert response.status_code == HTTPStatus.CONFLICT


def test_unverified_address_blocks_setup(logged_in, user):
    EmailAddress.objects.create(user=user, email="claim@example.com", verified=False)
    response = logged_in.get(TOTP)
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "unverified_email"


def test_changes_need_a_recent_authentication(logged_in, user):
    secret = logged_in.get(TOTP).json()["meta"]["secret"]
    age_authentication(logged_in, 301)
    response = logged_in.post(TOTP, {"code": code(secret)})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    body = response.json()
    assert body["meta"]["is_authenticated"] is True
    assert body["data"]["flows"] == [{"id": "reauthenticate"}]
    assert body["data"]["user"]["id"] == user.pk
    from tests.conftest import PASSWORD

    assert logged_in.post("/auth/reauthenticate", {"password": PASSWORD}).status_code == 200
    assert logged_in.post(TOTP, {"code": code(secret)}).status_code == HTTPStatus.OK
    # With TOTP active the second factor is a way to reauthenticate, too.
    age_authentication(logged_in, 301)
    flows = logged_in.delete(TOTP).json()["data"]["flows"]
    assert flows == [
        {"id": "reauthenticate"},
        {"id": "mfa_reauthenticate", "types": ["recovery_codes", "totp"]},
    ]


def test_mfa_reauthentication(logged_in, user):
    secret = activate_totp(logged_in)
    age_authentication(logged_in, 301)
    wrong = logged_in.post(REAUTHENTICATE, {"code": code(secret, step_now() + 7)})
    assert wrong.json()["errors"][0]["code"] == "incorrect_code"
    response = logged_in.post(REAUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert response.status_code == HTTPStatus.OK
    record = response.json()["data"]["methods"][-1]
    assert record == {
        "method": "mfa",
        "at": record["at"],
        "id": Authenticator.objects.get(user=user, type="totp").pk,
        "type": "totp",
        "reauthenticated": True,
    }
    assert logged_in.delete(TOTP).status_code == HTTPStatus.OK


def test_deactivate_removes_the_recovery_codes_too(logged_in, user):
    activate_totp(logged_in)
    assert logged_in.delete(TOTP).json() == {"status": 200}
    assert logged_in.get(AUTHENTICATORS).json()["data"] == []
    assert logged_in.delete(TOTP).json() == {"status": 200}  # nothing to remove: still 200
    removed = AuthEvent.objects.filter(user=user, kind="mfa_authenticator_removed")
    assert sorted(e.detail["type"] for e in removed) == ["recovery_codes", "totp"]


def test_endpoints_need_a_signed_in_user(headless):
    calls = [("GET", TOTP), ("POST", TOTP), ("DELETE", TOTP), ("GET", AUTHENTICATORS)]
    for method, path in calls:
        response = headless.request(method, path, {"code": "1"} if method == "POST" else None)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["meta"] == {"is_authenticated": False}


def test_a_code_is_accepted_once(user):
    secret = totp.secret_generate()
    row = Authenticator.objects.create(
        user=user, type="totp", data={"secret": crypto.encrypt(secret)}
    )
    now = code(secret)
    assert totp.totp_use(row, now) is True
    assert totp.totp_use(row, now) is False  # replay
    assert totp.totp_use(row, code(secret, step_now() - 1)) is False  # older than the last
    assert totp.totp_use(row, code(secret, step_now() + 1)) is True  # the next step


@pytest.mark.django_db(transaction=True)
def test_racing_requests_with_one_code_let_one_in(user):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    secret = totp.secret_generate()
    row = Authenticator.objects.create(
        user=user, type="totp", data={"secret": crypto.encrypt(secret)}
    )
    now = code(secret)

    def attempt(_):
        try:
            return totp.totp_use(Authenticator.objects.get(pk=row.pk), now)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count(True) == 1
