"""Session ids in /auth/sessions are integers (allauth's spec), and every
session listed can be ended: those of the Django admin's own login page too."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import UserSession
from tests.conftest import PASSWORD, HeadlessClient

ADMIN_LOGIN = "/admin/login/"


def _listing(client: HeadlessClient) -> list[dict]:
    response = client.get("/auth/sessions")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["data"]


def test_session_ids_are_integers_and_end_by_integer(make_headless, user):
    first, second = make_headless(), make_headless()
    for client in (first, second):
        login = client.post("/auth/login", {"email": user.email, "password": PASSWORD})
        assert login.status_code == HTTPStatus.OK
    listing = _listing(first)
    assert len(listing) == 2
    assert all(type(s["id"]) is int and 0 < s["id"] <= 2**53 for s in listing)
    assert len({s["id"] for s in listing}) == 2
    other = next(s for s in listing if not s["is_current"])

    response = first.delete("/auth/sessions", {"sessions": [other["id"]]})
    assert response.status_code == HTTPStatus.OK
    assert [s["id"] for s in response.json()["data"]] == [
        s["id"] for s in listing if s["is_current"]
    ]
    assert second.get("/auth/session").status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.GONE)


def test_the_id_survives_a_token_rotation(logged_in):
    before = _listing(logged_in)
    response = logged_in.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "another long passphrase 42"},
    )
    assert response.status_code == HTTPStatus.OK
    after = _listing(logged_in)
    assert [s["id"] for s in after] == [s["id"] for s in before]
    assert after[0]["is_current"]


@pytest.mark.parametrize("ids", [["nope"], [0], [-1], [2**53 + 1], [], [1.5]])
def test_ids_that_are_not_positive_integers_are_400(logged_in, ids):
    response = logged_in.delete("/auth/sessions", {"sessions": ids})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"].startswith("sessions")


def test_another_users_session_id_is_unknown(make_headless, user, user_factory):
    mine, theirs = make_headless(), make_headless()
    other = user_factory("bob@example.com")
    for client, who in ((mine, user), (theirs, other)):
        login = client.post("/auth/login", {"email": who.email, "password": PASSWORD})
        assert login.status_code == HTTPStatus.OK
    their_id = _listing(theirs)[0]["id"]
    response = mine.delete("/auth/sessions", {"sessions": [their_id]})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "sessions"
    assert theirs.get("/auth/session").status_code == HTTPStatus.OK


@pytest.fixture
def staff(user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _admin_login(staff) -> Client:
    browser = Client(REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="admin-browser")
    browser.get(ADMIN_LOGIN)
    response = browser.post(
        ADMIN_LOGIN, {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == HTTPStatus.FOUND, response.content
    assert browser.get("/admin/").status_code == HTTPStatus.OK
    return browser


def test_admin_login_sessions_are_listed_and_can_be_ended(logged_in, staff):
    """Issue 9 #20: an admin-login session listed with id "" could not be ended."""
    admin_browser = _admin_login(staff)
    listing = _listing(logged_in)
    assert len(listing) == 2
    admin = next(s for s in listing if not s["is_current"])
    assert type(admin["id"]) is int
    assert admin["ip"] == "198.51.100.4" and admin["user_agent"] == "admin-browser"
    assert isinstance(admin["created_at"], float) and isinstance(admin["last_seen_at"], float)

    response = logged_in.delete("/auth/sessions", {"sessions": [admin["id"]]})
    assert response.status_code == HTTPStatus.OK
    assert [s["id"] for s in response.json()["data"]] != [admin["id"]]
    assert len(response.json()["data"]) == 1
    # The admin's browser is signed out: the admin sends it to the login page.
    assert admin_browser.get("/admin/").status_code == HTTPStatus.FOUND


def test_every_signed_in_row_has_an_id(staff, logged_in):
    _admin_login(staff)
    rows = UserSession.objects.filter(user=staff)
    assert rows.count() == 2
    assert not rows.filter(public_id__isnull=True).exists()


def test_a_session_from_before_integer_ids_is_listed_and_ended(logged_in, user):
    """A session saved by v1 holds a string id in its data (migration 0003
    converted its row): it keeps one integer id, in the row and the listing."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts import sessions
    from accounts.flows.signin import BACKEND

    store = sessions.SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            sessions.PUBLIC_ID: "Zq3v-9dKx0Pb_LmA",
            sessions.CREATED_AT: 1.0,
        }
    )
    store.save()
    row = UserSession.objects.get(session_key=store.session_key)
    assert row.public_id == sessions._derived_public_id("Zq3v-9dKx0Pb_LmA")
    old = HeadlessClient("app")
    old.token = store.session_key
    assert old.get("/auth/session").status_code == HTTPStatus.OK
    listed = next(s for s in _listing(old) if s["is_current"])
    assert listed["id"] == row.public_id

    response = logged_in.delete("/auth/sessions", {"sessions": [row.public_id]})
    assert response.status_code == HTTPStatus.OK
    assert old.get("/auth/session").status_code == HTTPStatus.GONE


@pytest.mark.parametrize("selected", ["abc", "9" * 40, "-1", None])
def test_admin_end_action_ignores_a_selection_that_is_no_id(
    admin_client, logged_in, user, selected
):
    """Not a key, not junk: a selection that is no row id ends nothing (and no 500)."""
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    session = UserSession.objects.get(user=user)
    response = admin_client.post(
        "/admin/accounts/usersession/",
        {
            "action": "end_selected_sessions",
            ACTION_CHECKBOX_NAME: [selected or session.session_key],
        },
    )
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    assert UserSession.objects.filter(pk=session.pk).exists()
    assert logged_in.get("/auth/session").status_code == HTTPStatus.OK
