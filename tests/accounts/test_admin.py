"""Django admin for users, email addresses and sessions (as a superuser)."""

from __future__ import annotations

from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.management import call_command

from accounts.models import EmailAddress, User, UserSession
from tests.conftest import PASSWORD, HeadlessClient

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
ADDRESSES = "/admin/accounts/emailaddress/"
SESSIONS = "/admin/accounts/usersession/"


class _FormFields(HTMLParser):
    """What a browser would submit for the page's main form, as a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = dict(attrs_list)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            else:
                self.data[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def form_data(response) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(response.content.decode())
    return {k: v for k, v in parser.data.items() if not k.startswith("_") and k != "q"}


def app_login(user: User) -> HeadlessClient:
    app = HeadlessClient("app")
    response = app.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    return app


def test_user_search_by_email_and_secondary_address(admin_client, user_factory) -> None:
    user_factory("alice@example.com")
    bob = user_factory("bob@example.com")
    EmailAddress.objects.create(user=bob, email="bobby@example.org")

    page = admin_client.get(USERS, {"q": "alice"}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    page = admin_client.get(USERS, {"q": "bobby@example.org"}).content.decode()
    assert "bob@example.com" in page and "alice@example.com" not in page


def test_user_filters(admin_client, user_factory) -> None:
    user_factory("alice@example.com")
    wallet_only = User.objects.create_user(email=None, password=None)
    assert admin_client.get(f"{USERS}{wallet_only.pk}/change/").status_code == HTTPStatus.OK
    page = admin_client.get(USERS, {"usable_password": "no"}).content.decode()
    assert "alice@example.com" not in page and "1 user" in page
    joined = {
        "date_joined__gte": "2000-01-01 00:00+00:00",
        "date_joined__lt": "2100-01-01 00:00+00:00",
    }
    for params in ({"is_staff__exact": "0"}, {"is_superuser__exact": "1"}, joined):
        response = admin_client.get(USERS, {**params, "is_active__exact": "1"})
        assert response.status_code == HTTPStatus.OK


def test_change_page_shows_addresses_and_sessions_never_the_key(admin_client, user) -> None:
    app_login(user)
    session = UserSession.objects.get(user=user)

    response = admin_client.get(f"{USERS}{user.pk}/change/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert user.email in page
    assert str(session.public_id) in page and "203.0.113.7" in page
    assert session.session_key not in page


def test_add_user_with_email_creates_primary_address(admin_client) -> None:
    data = form_data(admin_client.get(f"{USERS}add/"))
    data.update(email="New@Example.COM", usable_password="true")
    data.update(password1=PASSWORD, password2=PASSWORD)
    response = admin_client.post(f"{USERS}add/", data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[-3000:]
    user = User.objects.get(email="New@example.com")
    assert user.check_password(PASSWORD)
    address = user.emailaddresses.get()
    assert (address.email, address.primary, address.verified) == ("New@example.com", True, False)


def test_add_wallet_only_user_and_refuse_duplicate_email(admin_client, user) -> None:
    base = form_data(admin_client.get(f"{USERS}add/"))
    response = admin_client.post(f"{USERS}add/", {**base, "email": "", "usable_password": "false"})
    assert response.status_code == HTTPStatus.FOUND
    wallet_only = User.objects.get(email__isnull=True)
    assert not wallet_only.has_usable_password()

    dup = {**base, "email": user.email.upper(), "usable_password": "false"}
    response = admin_client.post(f"{USERS}add/", dup)
    assert response.status_code == HTTPStatus.OK
    assert "already exists" in response.content.decode()


def test_switching_primary_in_the_inline_updates_user_email(admin_client, user) -> None:
    other = EmailAddress.objects.create(user=user, email="second@example.com", verified=True)
    url = f"{USERS}{user.pk}/change/"
    data = form_data(admin_client.get(url))
    rows = {data[f"emailaddresses-{i}-id"]: i for i in range(2)}
    data.pop(f"emailaddresses-{rows[str(user.emailaddresses.get(primary=True).pk)]}-primary")
    data[f"emailaddresses-{rows[str(other.pk)]}-primary"] = "on"

    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[-3000:]
    user.refresh_from_db()
    assert user.email == "second@example.com"
    assert list(user.emailaddresses.filter(primary=True)) == [other]


def test_deleting_the_primary_while_choosing_another(admin_client, user) -> None:
    other = EmailAddress.objects.create(user=user, email="second@example.com", verified=True)
    url = f"{USERS}{user.pk}/change/"
    data = form_data(admin_client.get(url))
    rows = {data[f"emailaddresses-{i}-id"]: i for i in range(2)}
    old = rows[str(user.emailaddresses.get(primary=True).pk)]
    data[f"emailaddresses-{old}-DELETE"] = "on"
    data[f"emailaddresses-{rows[str(other.pk)]}-primary"] = "on"

    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[-3000:]
    user.refresh_from_db()
    assert user.email == "second@example.com"
    assert list(user.emailaddresses.all()) == [other]


def test_inline_refuses_two_primaries_and_a_second_verified_owner(
    admin_client, user, user_factory
) -> None:
    user_factory("taken@example.com")
    EmailAddress.objects.create(user=user, email="taken@example.com")
    url = f"{USERS}{user.pk}/change/"
    data = form_data(admin_client.get(url))
    data["emailaddresses-0-primary"] = data["emailaddresses-1-primary"] = "on"
    data["emailaddresses-1-verified"] = data["emailaddresses-0-verified"] = "on"

    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.OK  # the form again, with errors
    page = response.content.decode()
    assert "Exactly one address must be primary." in page
    assert "Another user has already verified this address." in page


def test_mark_verified_respects_the_one_verified_owner(admin_client, user_factory) -> None:
    user_factory("owner@example.com")
    claimant = user_factory("claimant@example.com", verified=False)
    conflicting = EmailAddress.objects.create(user=claimant, email="OWNER@example.com")
    fresh = EmailAddress.objects.get(user=claimant, primary=True)

    response = admin_client.post(
        ADDRESSES,
        {"action": "mark_verified", ACTION_CHECKBOX_NAME: [conflicting.pk, fresh.pk]},
    )
    assert response.status_code == HTTPStatus.FOUND
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Marked 1 address(es) verified." in texts
    assert any(t.startswith("Not marked: OWNER@example.com.") for t in texts)
    fresh.refresh_from_db()
    conflicting.refresh_from_db()
    assert fresh.verified and not conflicting.verified


def test_end_session_action_ends_a_live_session(admin_client, user) -> None:
    app = app_login(user)
    assert app.get("/auth/session").status_code == HTTPStatus.OK  # the Redis cache is warm
    session = UserSession.objects.get(user=user)

    page = admin_client.get(SESSIONS).content.decode()
    assert str(session.public_id) in page and session.session_key not in page
    response = admin_client.post(
        SESSIONS, {"action": "end_selected_sessions", ACTION_CHECKBOX_NAME: [session.pk]}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not UserSession.objects.filter(pk=session.pk).exists()
    assert app.get("/auth/session").status_code == HTTPStatus.GONE


def test_session_admin_is_read_only(admin_client, user) -> None:
    app_login(user)
    assert admin_client.get(f"{SESSIONS}add/").status_code == HTTPStatus.FORBIDDEN
    page = admin_client.get(SESSIONS).content.decode()
    assert "delete_selected" not in page and "end_selected_sessions" in page


def test_end_all_sessions_of_users(admin_client, user) -> None:
    app = app_login(user)
    response = admin_client.post(
        USERS, {"action": "end_all_sessions", ACTION_CHECKBOX_NAME: [user.pk]}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert app.get("/auth/session").status_code == HTTPStatus.GONE


def test_createsuperuser_noinput_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, verbosity=0)

    root = User.objects.get(email__iexact="root@example.com")
    assert root.is_superuser and root.is_staff and root.check_password(PASSWORD)
    address = root.emailaddresses.get()
    assert address.primary and address.verified
    app = HeadlessClient("app")
    response = app.post("/auth/login", {"email": "root@example.com", "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK


def test_mark_verified_makes_the_owner_as_the_link_does(admin_client, user_factory) -> None:
    """Two accounts claim one address; staff verify it for one: the other's
    claim goes, as it would had the owner clicked the verification link."""
    owner = user_factory("first@example.com")
    claimant = user_factory("claimant@example.com")
    claimed = EmailAddress.objects.create(user=claimant, email="Shared@example.com")
    mine = EmailAddress.objects.create(user=owner, email="shared@example.com")

    response = admin_client.post(
        ADDRESSES, {"action": "mark_verified", ACTION_CHECKBOX_NAME: [mine.pk]}
    )
    assert response.status_code == HTTPStatus.FOUND
    mine.refresh_from_db()
    assert mine.verified
    assert not EmailAddress.objects.filter(pk=claimed.pk).exists()
    assert claimant.emailaddresses.get().email == "claimant@example.com"


def test_ticking_verified_on_the_change_page_makes_the_owner(admin_client, user_factory) -> None:
    owner = user_factory("first@example.com")
    claimant = user_factory("claimant@example.com")
    claimed = EmailAddress.objects.create(user=claimant, email="shared@example.com")
    mine = EmailAddress.objects.create(user=owner, email="shared@example.com")
    url = f"{ADDRESSES}{mine.pk}/change/"
    data = form_data(admin_client.get(url))
    data["verified"] = "on"

    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[-3000:]
    mine.refresh_from_db()
    assert mine.verified
    assert not EmailAddress.objects.filter(pk=claimed.pk).exists()


def test_ticking_verified_in_the_user_inline_makes_the_owner(admin_client, user_factory) -> None:
    owner = user_factory("first@example.com")
    claimant = user_factory("claimant@example.com")
    claimed = EmailAddress.objects.create(user=claimant, email="shared@example.com")
    EmailAddress.objects.create(user=owner, email="shared@example.com")
    url = f"{USERS}{owner.pk}/change/"
    data = form_data(admin_client.get(url))
    row = next(
        key.removesuffix("-email")
        for key, value in data.items()
        if key.startswith("emailaddresses-")
        and key.endswith("-email")
        and value.startswith("shared")
    )
    data[f"{row}-verified"] = "on"

    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[-3000:]
    assert owner.emailaddresses.get(email="shared@example.com").verified
    assert not EmailAddress.objects.filter(pk=claimed.pk).exists()
