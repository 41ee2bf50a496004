"""One spelling of an address for every key and lookup (issue 9, items 10
and 12): look-alikes neither multiply a limit nor make a second account."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.emails import InvalidEmail, normalize_email
from accounts.models import EmailAddress, User
from tests.accounts.helpers import outbox_to
from tests.conftest import PASSWORD

DOTTED_I = "k\u0130m@example.com"  # kİm: Python lowers it to "ki̇m", PostgreSQL to "kim"
KELVIN = "\u212aim@example.com"  # the Kelvin sign: NFKC makes it a K
FULLWIDTH = "kim@\uff45xample.com"  # a fullwidth e
SOFT_HYPHEN = "kim@exa\u00admple.com"


def _invalid_email(response) -> bool:
    errors = response.json().get("errors", [])
    return response.status_code == HTTPStatus.BAD_REQUEST and any(
        e["code"] == "invalid" and e.get("param") == "email" for e in errors
    )


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("New.Person@Example.COM", "New.Person@example.com"),
        (KELVIN, "Kim@example.com"),
        (FULLWIDTH, "kim@example.com"),
        ("kim@B\u00fccher.de", "kim@xn--bcher-kva.de"),
        ("kim@xn--bcher-kva.de", "kim@xn--bcher-kva.de"),
    ],
)
def test_one_spelling(raw, normal):
    assert normalize_email(raw) == normal


@pytest.mark.parametrize(
    "raw", [DOTTED_I, "k\u0131m@example.com", SOFT_HYPHEN, "a\uff20b@example.com", "kim@x..com"]
)
def test_what_does_not_survive_normalisation_is_refused(raw):
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_dotted_i_cannot_multiply_the_per_account_limit(headless, user_factory):
    """login_failed allows 5 wrong passwords per address per 5 minutes: no
    other spelling of the address buys more, and `kİm` is not `kim`."""
    user_factory(email="kim@example.com")
    for _ in range(5):
        wrong = headless.post("/auth/login", {"email": "kim@example.com", "password": "guess!!"})
        assert wrong.json()["errors"][0]["code"] == "email_password_mismatch"
    for spelling in ("KIM@Example.com", KELVIN, FULLWIDTH):
        response = headless.post("/auth/login", {"email": spelling, "password": PASSWORD})
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS, spelling
    refused = headless.post("/auth/login", {"email": DOTTED_I, "password": PASSWORD})
    assert _invalid_email(refused)
    assert headless.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_dotted_i_does_not_sign_in_as_the_other(headless, user_factory):
    user_factory(email="kim@example.com")
    response = headless.post("/auth/login", {"email": DOTTED_I, "password": PASSWORD})
    assert _invalid_email(response)
    assert headless.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("post", "/auth/signup", {"password": PASSWORD}),
        ("post", "/auth/login", {"password": PASSWORD}),
        ("post", "/auth/password/request", {}),
    ],
)
@pytest.mark.parametrize("email", [DOTTED_I, SOFT_HYPHEN])
def test_look_alikes_are_refused_everywhere(headless, user_factory, method, path, extra, email):
    user_factory(email="kim@example.com")
    response = getattr(headless, method)(path, {"email": email, **extra})
    assert _invalid_email(response), response.content
    assert User.objects.count() == 1


def test_look_alikes_cannot_be_added(logged_in):
    for email in (DOTTED_I, SOFT_HYPHEN):
        assert _invalid_email(logged_in.post("/account/email", {"email": email}))
    assert EmailAddress.objects.count() == 1


def test_a_fullwidth_domain_is_the_real_one(make_headless, user_factory):
    """No second account whose mail reaches the owner's mailbox: the
    normalised form is what is compared, stored and mailed."""
    owner = user_factory(email="kim@example.com")
    signup = make_headless().post("/auth/signup", {"email": FULLWIDTH, "password": PASSWORD})
    assert signup.status_code == HTTPStatus.UNAUTHORIZED  # as for any taken address
    assert User.objects.get() == owner
    assert "already" in outbox_to("kim@example.com")[-1].subject.lower()
    login = make_headless().post("/auth/login", {"email": FULLWIDTH, "password": PASSWORD})
    assert login.json()["data"]["user"]["id"] == owner.pk


def test_the_normalised_form_is_stored(headless):
    headless.post("/auth/signup", {"email": "New@\uff45xample.COM", "password": PASSWORD})
    assert EmailAddress.objects.get().email == "New@example.com"
    assert outbox_to("New@example.com")
