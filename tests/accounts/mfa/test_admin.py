"""The admin lists authenticators and never shows or looks up their secrets."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.mfa import crypto
from accounts.mfa.models import Authenticator
from accounts.models import User


@pytest.fixture
def admin_client(db):
    admin = User.objects.create_superuser(email="root@example.com", password="x" * 20)
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def row(user):
    return Authenticator.objects.create(
        user=user, type="totp", data={"secret": crypto.encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")}
    )


def test_list_and_page_show_no_secret(admin_client, row):
    listing = admin_client.get("/admin/mfa/authenticator/")
    assert listing.status_code == HTTPStatus.OK
    page = admin_client.get(f"/admin/mfa/authenticator/{row.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    for response in (listing, page):
        text = response.content.decode()
        assert "TOTP authenticator" in text and "alice@example.com" in text
        assert row.data["secret"] not in text and "JBSWY3DP" not in text


@pytest.mark.parametrize(
    "query",
    ["data__secret__startswith=g", "data__icontains=a", "counter__gt=0", "o=data", "q=gAAAA"],
)
def test_no_lookup_through_the_secret(admin_client, row, query):
    response = admin_client.get(f"/admin/mfa/authenticator/?{query}")
    if query.startswith(("data", "counter")):
        assert response.status_code == HTTPStatus.BAD_REQUEST
    else:
        # An unknown ordering is ignored; a search looks at the user's email only.
        assert response.status_code == HTTPStatus.OK
        assert "0 authenticators" in response.content.decode() or query.startswith("o=")


def test_deleting_the_totp_removes_dangling_codes(admin_client, row, user):
    Authenticator.objects.create(user=user, type="recovery_codes", data={})
    response = admin_client.post(f"/admin/mfa/authenticator/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Authenticator.objects.filter(user=user).exists()


def test_a_webauthn_key_shows_its_name_and_not_its_credential(admin_client, user):
    key = Authenticator.objects.create(
        user=user,
        type="webauthn",
        data={
            "name": "Work laptop",
            "credential": "pQECAyYgASFYIPUBLICKEY",
            "credential_id": "CREDID",
        },
        counter=7,
    )
    for url in ("/admin/mfa/authenticator/", f"/admin/mfa/authenticator/{key.pk}/change/"):
        text = admin_client.get(url).content.decode()
        assert "WebAuthn" in text and "Work laptop" in text
        assert "PUBLICKEY" not in text and "CREDID" not in text
