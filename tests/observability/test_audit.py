"""The audit trail: an AuthEvent row per auth event, never breaking the
request; read-only in the admin; pruned by age."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import AuthEvent, User
from accounts.signals import Event, Outcome, emit
from tests.accounts.helpers import key_from_mail
from tests.conftest import PASSWORD

UA = "Mozilla/5.0 (X11; Linux x86_64) Signet-Test/1.0"


def kinds() -> list[tuple[str, str]]:
    return list(AuthEvent.objects.order_by("pk").values_list("kind", "outcome"))


def test_login_is_recorded_with_who_how_and_where(headless, user):
    headless.post(
        "/auth/login", {"email": user.email, "password": PASSWORD}, headers={"User-Agent": UA}
    )
    event = AuthEvent.objects.get()
    assert (event.user, event.kind, event.outcome, event.method, event.chain) == (
        user,
        "login",
        "success",
        "password",
        "",
    )
    assert (event.ip, event.user_agent, event.detail) == ("203.0.113.7", UA, {})
    assert timezone.now() - event.created_at < timedelta(seconds=10)


def test_a_failed_login_names_nobody(headless, user):
    headless.post("/auth/login", {"email": user.email, "password": "not the password"})
    event = AuthEvent.objects.get()
    assert (event.user, event.kind, event.outcome) == (None, "login_failed", "failure")


def test_the_whole_life_of_an_account(headless, make_headless, client_kind):
    headless.post("/auth/signup", {"email": "bob@example.com", "password": PASSWORD})
    headless.post("/auth/email/verify", {"key": key_from_mail()})
    headless.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "changed passphrase 9911"},
    )
    other = make_headless()
    other.post("/auth/password/request", {"email": "bob@example.com"})
    other.post("/auth/password/reset", {"key": key_from_mail(), "password": "reset pass 7733"})
    other.post("/auth/login", {"email": "bob@example.com", "password": "reset pass 7733"})
    other.delete("/auth/session")
    assert kinds() == [
        ("signup", "success"),
        ("email_verified", "success"),
        ("login", "success"),
        ("password_changed", "success"),
        ("password_reset", "success"),
        ("login", "success"),
        ("logout", "success"),
    ]
    bob = User.objects.get(email="bob@example.com")
    assert set(AuthEvent.objects.values_list("user", flat=True)) == {bob.pk}


def test_ending_another_session_is_recorded(make_headless, user):
    first, second = make_headless(), make_headless()
    for client in (first, second):
        client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    sessions = first.get("/auth/sessions").json()["data"]
    other = next(s["id"] for s in sessions if not s["is_current"])
    first.delete("/auth/sessions", {"sessions": [other]})
    assert kinds()[-1] == ("session_ended", "success")


def test_rate_limit_refusals_are_not_stored(headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "login=1/m/ip"
    for _ in range(3):
        headless.post("/auth/login", {"email": user.email, "password": "not the password"})
    assert kinds() == [("login_failed", "failure")]


@pytest.mark.django_db
def test_wallet_events_keep_their_chain_and_no_secret(user):
    request = RequestFactory().post("/", headers={"User-Agent": "x" * 2000})
    emit(
        request,
        Event.WALLET_LINKED,
        user=user,
        method="wallet",
        chain="eip155:1",
        address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        signature="0xdeadbeef",
    )
    event = AuthEvent.objects.get()
    assert (event.kind, event.method, event.chain, event.ip) == (
        "wallet_linked",
        "wallet",
        "eip155:1",
        "127.0.0.1",
    )
    assert event.detail == {
        "address": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "signature": "[redacted]",
    }
    assert len(event.user_agent) == 512


@pytest.mark.django_db
def test_an_event_without_a_request():
    emit(None, Event.SESSION_ENDED, outcome=Outcome.SUCCESS)
    assert AuthEvent.objects.get().ip is None


def test_a_database_error_never_breaks_sign_in(headless, user, monkeypatch, caplog):
    def broken(self, *args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuthEvent, "save", broken)
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert headless.get("/auth/session").status_code == HTTPStatus.OK
    assert "auth event login not recorded: DatabaseError" in caplog.text


@pytest.mark.django_db
def test_an_event_inside_a_rolled_back_transaction_is_gone(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(None, Event.PASSWORD_CHANGED, user=user)
        raise RuntimeError("the change failed after all")
    assert not AuthEvent.objects.exists()


def test_events_outlive_their_user(headless, user):
    headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    user.delete()
    assert AuthEvent.objects.get().user is None


# --- Admin ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    return client


@pytest.fixture
def event(user) -> AuthEvent:
    return AuthEvent.objects.create(
        user=user, kind="login", outcome="success", method="password", ip="198.51.100.9"
    )


def test_admin_lists_filters_and_searches(admin_client, event, user):
    url = "/admin/accounts/authevent/"
    page = admin_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert "198.51.100.9" in page.text
    for name in ("kind", "outcome", "method", "chain", "created_at"):
        assert f"By {AuthEvent._meta.get_field(name).verbose_name}" in page.text
    assert "198.51.100.9" in admin_client.get(url, {"q": user.email}).text
    assert "198.51.100.9" in admin_client.get(url, {"q": "198.51.100"}).text
    assert "198.51.100.9" not in admin_client.get(url, {"q": "nobody@example.com"}).text
    assert "198.51.100.9" in admin_client.get(url, {"kind": "login"}).text
    assert "198.51.100.9" not in admin_client.get(url, {"kind__exact": "logout"}).text


def test_admin_is_read_only(admin_client, event):
    base = "/admin/accounts/authevent/"
    assert admin_client.get(f"{base}add/").status_code == HTTPStatus.FORBIDDEN
    assert admin_client.get(f"{base}{event.pk}/delete/").status_code == HTTPStatus.FORBIDDEN
    view = admin_client.get(f"{base}{event.pk}/change/")
    assert view.status_code == HTTPStatus.OK
    assert 'name="_save"' not in view.text
    admin_client.post(f"{base}{event.pk}/change/", {"kind": "logout"})
    action = admin_client.post(
        base, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert action.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)
    event.refresh_from_db()
    assert event.kind == "login"


# --- Pruning ----------------------------------------------------------------------------


def _aged(days: int) -> AuthEvent:
    return AuthEvent.objects.create(
        kind="login", outcome="success", created_at=timezone.now() - timedelta(days=days)
    )


@pytest.mark.django_db
def test_prune_deletes_only_old_events(capsys):
    keep = [_aged(1), _aged(89)]
    for days in (91, 400, 1000):
        _aged(days)
    call_command("prune_auth_events")
    assert capsys.readouterr().out.strip() == "Deleted 3 auth events older than 90 days."
    assert sorted(AuthEvent.objects.values_list("pk", flat=True)) == [e.pk for e in keep]


@pytest.mark.django_db
def test_prune_takes_days_and_batches(capsys, monkeypatch):
    monkeypatch.setattr("accounts.management.batches.BATCH", 2)
    for days in (3, 4, 5, 6, 7):
        _aged(days)
    call_command("prune_auth_events", "--days", "2")
    assert "Deleted 5 auth events older than 2 days." in capsys.readouterr().out
    assert not AuthEvent.objects.exists()


@pytest.mark.django_db
def test_prune_refuses_a_silly_age():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_auth_events", "--days", "0")
