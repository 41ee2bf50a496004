from __future__ import annotations

from http import HTTPStatus

from django.core import mail

from accounts.models import EmailAddress
from tests.accounts.helpers import key_from_mail

PRIMARY = {"email": "alice@example.com", "primary": True, "verified": True}


def test_list(logged_in):
    response = logged_in.get("/account/email")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": 200, "data": [PRIMARY]}


def test_add_verify_make_primary_remove(logged_in, user):
    added = logged_in.post("/account/email", {"email": "second@example.com"})
    assert added.status_code == HTTPStatus.OK
    second = {"email": "second@example.com", "primary": False, "verified": False}
    assert added.json()["data"] == [PRIMARY, second]
    assert mail.outbox[-1].to == ["second@example.com"]

    unverified = logged_in.patch("/account/email", {"email": "second@example.com", "primary": True})
    assert unverified.status_code == HTTPStatus.BAD_REQUEST
    assert unverified.json()["errors"][0]["code"] == "unverified_primary_email"

    assert logged_in.post("/auth/email/verify", {"key": key_from_mail()}).status_code == 200
    primary = logged_in.patch("/account/email", {"email": "second@example.com", "primary": True})
    assert primary.status_code == HTTPStatus.OK
    assert primary.json()["data"] == [
        {"email": "second@example.com", "primary": True, "verified": True},
        {"email": "alice@example.com", "primary": False, "verified": True},
    ]
    user.refresh_from_db()
    assert user.email == "second@example.com"

    cannot = logged_in.delete("/account/email", {"email": "second@example.com"})
    assert cannot.json()["errors"][0]["code"] == "cannot_remove_primary_email"
    removed = logged_in.delete("/account/email", {"email": "alice@example.com"})
    assert removed.json()["data"] == [
        {"email": "second@example.com", "primary": True, "verified": True}
    ]


def test_adding_someone_elses_address_reveals_nothing(logged_in, user_factory):
    """Listed as an unverified claim, as a free address would be; the owner
    gets a notice, and no link that could verify the claim exists."""
    bob = user_factory(email="bob@example.com")
    response = logged_in.post("/account/email", {"email": "BOB@example.com"})
    assert response.status_code == HTTPStatus.OK
    claim = {"email": "BOB@example.com", "primary": False, "verified": False}
    assert response.json()["data"] == [PRIMARY, claim]
    assert "someone tried to add your address" in mail.outbox[-1].subject.lower()
    assert "/account/verify-email/" not in mail.outbox[-1].body
    assert EmailAddress.objects.get(email__iexact="bob@example.com", verified=True).user == bob


def test_adding_own_address_twice(logged_in):
    response = logged_in.post("/account/email", {"email": "Alice@Example.com"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "email_taken"


def test_resend_verification(logged_in, settings):
    logged_in.post("/account/email", {"email": "second@example.com"})
    response = logged_in.put("/account/email", {"email": "second@example.com"})
    assert response.status_code == HTTPStatus.OK
    assert len(mail.outbox) == 2
    limited = logged_in.put("/account/email", {"email": "second@example.com"})
    # allauth answers 403 inside the cooldown; no mail is sent.
    assert limited.status_code == HTTPStatus.FORBIDDEN
    assert limited.json() == {
        "status": 403,
        "errors": [
            {
                "code": "rate_limited",
                "message": "Too many verification mails were sent to this address; "
                "try again later.",
                "param": "email",
            }
        ],
    }
    assert 0 < int(limited["Retry-After"]) <= 180
    assert len(mail.outbox) == 2
    unknown = logged_in.put("/account/email", {"email": "nobody@example.com"})
    assert unknown.json()["errors"][0]["code"] == "unknown_email"


def test_manage_email_needs_a_session(headless):
    assert headless.get("/account/email").status_code == HTTPStatus.UNAUTHORIZED
    assert headless.post("/account/email", {"email": "a@b.co"}).status_code == 401


def test_primary_false_is_refused(logged_in):
    response = logged_in.patch("/account/email", {"email": "alice@example.com", "primary": False})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "primary"
