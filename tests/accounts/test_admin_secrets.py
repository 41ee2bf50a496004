"""The admin leaks no secret: the attack of issue 9 item 3, as the attacker ran it.

A staff user with nothing but `view_usersession` tried to read a superuser's
session key (a live token and admin cookie) off the session list one prefix
at a time, reading the result count. Every way to ask is tried here, on every
admin: each must be refused outright (400), or answer the same whatever the
prefix, and no page may show a key.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import checks
from django.test import Client

from accounts.admin_secrets import CHECK_ID, check_admins, reaches_secret, secret_fields
from accounts.models import EmailAddress, User, UserSession
from tests.conftest import PASSWORD, HeadlessClient

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/accounts/usersession/"
LOOKUPS = ("startswith", "istartswith", "regex", "gt", "lt", "contains", "exact", "in")


def _staff(email: str, *codenames: str) -> Client:
    spy = User.objects.create_user(email=email, password=PASSWORD, is_staff=True)
    EmailAddress.objects.create(user=spy, email=email, primary=True, verified=True)
    spy.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    assert (
        client.post("/admin/login/", {"username": email, "password": PASSWORD}).status_code == 302
    )
    return client


@pytest.fixture
def victim_key() -> str:
    """A superuser signed in to the app: the key the spy is after."""
    root = User.objects.create_superuser("root@example.com", PASSWORD)
    app = HeadlessClient("app")
    assert app.post("/auth/login", {"email": root.email, "password": PASSWORD}).status_code == 200
    return UserSession.objects.get(user=root).session_key


@pytest.fixture
def spy() -> Client:
    return _staff("spy@example.com", "view_usersession")


def _count(response) -> int | None:
    if response.status_code != HTTPStatus.OK:
        return None
    return response.context["cl"].result_count


def _assert_no_oracle(client: Client, url: str, param: str, right: str, wrong: str) -> None:
    """Refused (400, or Django's `?e=1` redirect), or the same answer for both."""
    answers = []
    for value in (right, wrong):
        response = client.get(url, {param: value})
        if response.status_code == HTTPStatus.FOUND:
            assert "e=1" in response["Location"], (param, response["Location"])
        else:
            assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST), param
        answers.append((response.status_code, _count(response)))
    assert answers[0] == answers[1], (param, answers)


def test_the_reported_attack_recovers_nothing(spy, victim_key) -> None:
    prefix = victim_key[:4]
    wrong = ("0" if prefix[0] != "0" else "1") + prefix[1:]
    assert _count(spy.get(SESSIONS)) == 2  # the victim's app session and the spy's own admin one
    response = spy.get(SESSIONS, {"session_key__startswith": prefix})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    # The row's identity (URLs, checkboxes, `pk__...`) is a number, not the key.
    assert str(UserSession.objects.get(session_key=victim_key).pk) != victim_key
    for lookup in LOOKUPS:
        for path in ("session_key", "session_data", "user__password"):
            value = f"^{prefix}" if lookup == "regex" else prefix
            bad = f"^{wrong}" if lookup == "regex" else wrong
            _assert_no_oracle(spy, SESSIONS, f"{path}__{lookup}", value, bad)
        _assert_no_oracle(spy, SESSIONS, "session_key", victim_key, victim_key[::-1])
    _assert_no_oracle(spy, SESSIONS, "pk__startswith", prefix, wrong)
    _assert_no_oracle(spy, SESSIONS, "user__password__startswith", "argon2", "pbkdf2")
    _assert_no_oracle(spy, SESSIONS, "q", prefix, wrong)


def test_no_column_orders_by_a_secret(spy, victim_key) -> None:
    """Ordering by the key against the spy's own known keys would bisect it."""
    columns = len(admin.site._registry[UserSession].list_display)
    for index in range(columns + 3):
        for o in (str(index), f"-{index}", f"{index}.1"):
            response = spy.get(SESSIONS, {"o": o})
            if response.status_code != HTTPStatus.OK:
                continue
            ordering = response.context["cl"].queryset.query.order_by
            fields = [str(term).lstrip("-") for term in ordering]
            assert not any(reaches_secret(UserSession, f) for f in fields), (o, ordering)


def test_a_popup_cannot_print_a_secret_column(spy, victim_key) -> None:
    for to_field in ("session_key", "session_data"):
        response = spy.get(SESSIONS, {"_popup": "1", "_to_field": to_field})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert victim_key not in response.content.decode()


def _secret_paths(model) -> list[str]:
    """Every path from `model` to a secret, one relation deep (where leaks were)."""
    paths = [name for name in secret_fields(model)]
    if reaches_secret(model, "pk"):
        paths.append("pk")
    for field in model._meta.get_fields():
        if field.is_relation and field.related_model is not None:
            paths += [f"{field.name}__{name}" for name in secret_fields(field.related_model)]
    return paths


def test_every_admin_refuses_lookups_through_every_secret(victim_key) -> None:
    """A staff user who may view everything, on every registered admin."""
    codenames = Permission.objects.filter(codename__startswith="view_")
    nosy = _staff("nosy@example.com", *codenames.values_list("codename", flat=True))
    tried = 0
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for path in _secret_paths(model):
            for lookup in LOOKUPS:
                response = nosy.get(url, {f"{path}__{lookup}": victim_key[:3]})
                assert response.status_code == HTTPStatus.BAD_REQUEST, (url, path, lookup)
                tried += 1
    assert tried >= 8 * 8  # users, addresses, sessions, audit, wallets at least


def test_no_page_shows_a_key(admin_client, victim_key) -> None:
    session = UserSession.objects.get(session_key=victim_key)
    pages = [
        SESSIONS,
        f"{SESSIONS}{session.pk}/change/",
        f"{SESSIONS}{session.pk}/history/",
        f"/admin/accounts/user/{session.user_id}/change/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        page = response.content.decode()
        assert victim_key not in page and session.session_data not in page, url
    password_hash = User.objects.get(pk=session.user_id).password
    user_page = admin_client.get(pages[-1]).content.decode()
    assert password_hash.rsplit("$", 1)[1] not in user_page  # Django shows a masked summary


def test_the_check_refuses_an_admin_that_exposes_a_secret(monkeypatch) -> None:
    assert [e for e in check_admins() if e.id == CHECK_ID] == []
    session_admin = admin.site._registry[UserSession]
    monkeypatch.setattr(session_admin, "search_fields", ("user__email", "session_key"))
    monkeypatch.setattr(session_admin, "list_filter", ("user__password",))
    errors = [e for e in check_admins() if e.id == CHECK_ID]
    assert [e.msg for e in errors] == [
        "UserSessionAdmin (accounts.UserSession).list_filter names 'user__password', "
        "a secret field.",
        "UserSessionAdmin (accounts.UserSession).search_fields names 'session_key', "
        "a secret field.",
    ]
    assert all(e.level == checks.ERROR for e in errors)


def test_the_check_knows_djangos_own_secrets() -> None:
    """Registering Django's session model (or any user model) as is would leak."""
    from django.contrib.admin import AdminSite
    from django.contrib.sessions.models import Session

    site = AdminSite(name="probe")
    site.register(Session)
    try:
        messages = {e.msg for e in check_admins() if e.id == CHECK_ID}
    finally:
        site.unregister(Session)
    assert (
        "ModelAdmin (sessions.Session) holds or points at a secret field but does not use "
        "accounts.admin_secrets.SecretSafeAdminMixin." in messages
    )
    assert "ModelAdmin (sessions.Session).fields names 'session_key', a secret field." in messages
