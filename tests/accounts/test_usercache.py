"""The user cache (accounts.usercache): authenticated reads without SQL, and
never a stale answer after a change that matters."""

from __future__ import annotations

import pickle
from http import HTTPStatus

import pytest
import redis
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts import usercache, userversions
from accounts.models import EmailAddress, User
from accounts.redis import redis_client
from tests.accounts.test_admin import form_data
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import WALLETS, sign_in


def _dead_redis() -> redis.Redis:
    retry = Retry(NoBackoff(), 0)
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=retry)


@pytest.fixture
def redis_down(monkeypatch):
    """Both the user cache and the session cache fail every call."""
    import accounts.sessions

    dead = _dead_redis()
    monkeypatch.setattr(userversions, "_client", lambda: dead)
    monkeypatch.setattr(accounts.sessions, "_raw_cache_client", lambda: dead)


def session_user(client) -> dict | None:
    response = client.get("/auth/session")
    return response.json()["data"]["user"] if response.status_code == HTTPStatus.OK else None


def queries_of(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/auth/session").status_code == HTTPStatus.OK
    return len(queries)


# Entries are filled only from committed data: these tests commit for real
# (in the default test transaction, the test's own writes stay uncommitted).
committed = pytest.mark.django_db(transaction=True)


@committed
def test_an_authenticated_read_needs_no_sql(logged_in):
    logged_in.get("/auth/session")  # fills the cache
    assert queries_of(logged_in) == 0
    assert queries_of(logged_in) == 0


@committed
def test_sign_in_fills_the_entry_the_session_reads(headless, user):
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert queries_of(headless) == 0


@committed
def test_the_entry_expires(logged_in, user):
    logged_in.get("/auth/session")
    _version_key, entry_key = usercache._keys(user.pk)
    assert 0 < redis_client().ttl(entry_key) <= usercache.ENTRY_TTL


@committed
def test_a_read_of_an_uncommitted_change_is_not_cached(user_factory):
    user = user_factory()
    usercache.cached_user(user.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        user.email = "never@example.com"
        user.save(update_fields=["email"])
        seen = usercache.cached_user(user.pk)  # sees its own write...
        assert usercache.cached_payload(seen)["email"] == "never@example.com"
        raise RuntimeError  # ...which rolls back
    again = usercache.cached_user(user.pk)
    assert usercache.cached_payload(again)["email"] == "alice@example.com"


def test_a_password_saved_elsewhere_signs_the_session_out(logged_in, user):
    """As the admin or a shell would: the session's password hash no longer matches."""
    logged_in.get("/auth/session")
    user.set_password("another long passphrase 7")
    user.save()
    response = logged_in.get("/auth/session")
    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.GONE)


def test_the_password_change_endpoint_keeps_its_session_current(logged_in, user):
    logged_in.get("/auth/session")
    new = "a whole new passphrase 42"
    response = logged_in.post(
        "/account/password/change", {"current_password": PASSWORD, "new_password": new}
    )
    assert response.status_code == HTTPStatus.OK
    assert logged_in.get("/auth/session").status_code == HTTPStatus.OK
    # The cached user carries the new hash: reauthentication checks against it.
    assert logged_in.post("/auth/reauthenticate", {"password": new}).status_code == HTTPStatus.OK


def test_deactivation_signs_the_user_out(logged_in, user):
    logged_in.get("/auth/session")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert logged_in.get("/auth/session").status_code != HTTPStatus.OK


def test_a_deleted_user_is_signed_out(logged_in, user):
    logged_in.get("/auth/session")
    User.objects.filter(pk=user.pk).delete()  # queryset delete: signals still fire
    assert logged_in.get("/auth/session").status_code != HTTPStatus.OK


def test_logout_ends_the_read(logged_in):
    logged_in.get("/auth/session")
    token = logged_in.token
    logged_in.delete("/auth/session")
    if logged_in.kind == "app":
        response = logged_in.get("/auth/session", headers={"X-Session-Token": token})
        assert response.status_code == HTTPStatus.GONE
    else:
        assert logged_in.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_an_email_change_shows_at_once(logged_in, user):
    logged_in.get("/auth/session")
    EmailAddress.objects.create(user=user, email="new@example.com", verified=True)
    response = logged_in.patch("/account/email", {"email": "new@example.com", "primary": True})
    assert response.status_code == HTTPStatus.OK, response.content
    assert session_user(logged_in)["email"] == "new@example.com"


def test_linking_and_unlinking_a_wallet_show_at_once(logged_in):
    wallet = EvmWallet()
    assert session_user(logged_in)["wallets"] == []
    assert sign_in(logged_in, wallet, "connect").status_code == HTTPStatus.OK
    assert [w["address"] for w in session_user(logged_in)["wallets"]] == [wallet.address]
    response = logged_in.delete(WALLETS, {"chain": wallet.chain, "address": wallet.address})
    assert response.status_code == HTTPStatus.OK, response.content
    assert session_user(logged_in)["wallets"] == []


def test_a_wallet_sign_in_shows_the_wallet_touched(headless):
    """The sign-in updates last_used_at with update(), which sends no signal."""
    wallet = EvmWallet()
    first = sign_in(headless, wallet).json()["data"]["user"]["wallets"][0]
    assert session_user(headless)["wallets"] == [first]
    headless.delete("/auth/session")
    headless.token = None  # the app client drops the ended session's token
    again = sign_in(headless, wallet).json()["data"]["user"]["wallets"][0]
    assert again["last_used_at"] >= first["last_used_at"]
    assert session_user(headless)["wallets"] == [again]


@committed
def test_deactivation_by_update_signs_the_user_out_at_once(logged_in, user):
    """QuerySet.update() sends no signal; the User queryset bumps all the same.
    The session lives on, its user no longer authenticates: 401 with the flows."""
    assert queries_of(logged_in) == 0  # served from the cache
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = logged_in.get("/auth/session")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["meta"] == {"is_authenticated": False}


@committed
def test_deactivation_in_the_admin_signs_the_user_out_at_once(logged_in, user, admin_client):
    assert queries_of(logged_in) == 0
    url = f"/admin/accounts/user/{user.pk}/change/"
    data = form_data(admin_client.get(url))
    assert data.pop("is_active") == "on"
    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.content
    user.refresh_from_db()
    assert not user.is_active
    assert logged_in.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


@committed
@pytest.mark.parametrize(
    "write",
    [
        lambda user: User.objects.filter(pk=user.pk).update(email="moved@example.com"),
        lambda user: User.objects.bulk_update(
            [User(pk=user.pk, email="moved@example.com")], ["email"]
        ),
    ],
    ids=["update", "bulk_update"],
)
def test_signal_less_user_writes_show_at_once(logged_in, user, write):
    assert queries_of(logged_in) == 0
    write(user)
    assert session_user(logged_in)["email"] == "moved@example.com"


@committed
def test_signal_less_wallet_writes_show_at_once(logged_in, user):
    from wallets.models import Wallet

    wallet = EvmWallet()
    assert sign_in(logged_in, wallet, "connect").status_code == HTTPStatus.OK
    assert queries_of(logged_in) == 0
    user.wallets.update(chain="eip155:10")
    assert [w["chain"] for w in session_user(logged_in)["wallets"]] == ["eip155:10"]
    Wallet.objects.bulk_create(
        [Wallet(user=user, namespace="eip155", chain="eip155:1", address="0x" + "ab" * 20)]
    )
    assert len(session_user(logged_in)["wallets"]) == 2


def test_a_last_login_update_bumps_nothing(logged_in, user):
    """Every login writes last_login by update(): no Redis, no extra query."""
    version_key, _entry_key = usercache._keys(user.pk)
    before = redis_client().get(version_key)
    with CaptureQueriesContext(connection) as queries:
        User.objects.filter(pk=user.pk).update(last_login=None)
    assert len(queries) == 1
    assert redis_client().get(version_key) == before


def test_without_redis_a_deactivation_by_update_is_refused(user, redis_down):
    with pytest.raises(redis.exceptions.RedisError):
        User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    assert user.is_active


def test_a_tracked_model_needs_the_versioned_queryset():
    from django.core.exceptions import ImproperlyConfigured

    from accounts.models import AuthEvent

    with pytest.raises(ImproperlyConfigured):
        userversions.track(AuthEvent, strict_delete=False)


def test_a_fill_that_raced_a_change_is_never_served(user):
    """A reader that took the version before a change stores its (old) read
    under that version; the change moved past it, so nobody is served it."""
    usercache.cached_user(user.pk)  # starts the version
    version_key, entry_key = usercache._keys(user.pk)
    before = redis_client().get(version_key)
    stale_payload = {"id": user.pk, "email": "stale@example.com"}
    user.email = "fresh@example.com"
    user.save(update_fields=["email"])  # bumps the version
    values = tuple(getattr(user, name) for name in usercache.FIELDS)
    # What the slow reader writes after the change: its old read, old version.
    redis_client().set(entry_key, pickle.dumps((before, values, stale_payload)))
    fresh = usercache.cached_user(user.pk)
    assert usercache.cached_payload(fresh)["email"] == "fresh@example.com"


@pytest.mark.django_db(transaction=True)
def test_a_change_in_a_transaction_bumps_again_at_commit(user_factory):
    user = user_factory()
    usercache.cached_user(user.pk)
    version_key, _entry_key = usercache._keys(user.pk)
    with transaction.atomic():
        user.email = "later@example.com"
        user.save(update_fields=["email"])
        inside = int(redis_client().get(version_key))
    assert int(redis_client().get(version_key)) == inside + 1


def test_the_payload_loaded_with_the_user_is_dropped_after_a_change(user):
    cached = usercache.cached_user(user.pk)
    assert usercache.cached_payload(cached) is not None
    EmailAddress.objects.filter(user=user).update(verified=True)
    assert usercache.cached_payload(cached) is None


def test_reads_work_without_redis(logged_in, user, redis_down):
    assert session_user(logged_in)["id"] == user.pk


def test_without_redis_an_auth_change_is_refused(user, redis_down):
    user.set_password("another long passphrase 7")
    with pytest.raises(redis.exceptions.RedisError):
        user.save()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_without_redis_a_login_still_works(headless, user, redis_down):
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert session_user(headless)["id"] == user.pk


def test_without_redis_unlinking_is_refused(logged_in, monkeypatch):
    wallet = EvmWallet()
    assert sign_in(logged_in, wallet, "connect").status_code == HTTPStatus.OK
    monkeypatch.setattr(userversions, "_client", _dead_redis)
    response = logged_in.delete(WALLETS, {"chain": wallet.chain, "address": wallet.address})
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    monkeypatch.undo()
    assert [w["address"] for w in session_user(logged_in)["wallets"]] == [wallet.address]


def test_an_unreadable_entry_is_a_miss(logged_in, user):
    logged_in.get("/auth/session")
    _version_key, entry_key = usercache._keys(user.pk)
    redis_client().set(entry_key, b"not a pickle")
    assert session_user(logged_in)["id"] == user.pk
