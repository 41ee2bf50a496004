from __future__ import annotations

import gc
from http import HTTPStatus

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django_redis import get_redis_connection

from accounts.api.base import HeadlessApi
from accounts.errors import ApiError, Code
from accounts.models import UserSession
from accounts.sessions import SessionStore, cached_copy
from tests.accounts.helpers import anonymous_flows
from tests.conftest import PASSWORD, HeadlessClient


def test_config(headless, settings):
    response = headless.get("/config")
    assert response.status_code == HTTPStatus.OK
    data = response.json()["data"]
    assert data["account"] == {
        "login_methods": ["email"],
        "is_open_for_signup": True,
        "email_verification": "mandatory",
        "email_verification_by_code_enabled": False,
        "login_by_code_enabled": False,
        "password_reset_by_code_enabled": False,
        "authentication_method": "email",
    }
    assert data["usersessions"] == {"track_activity": True}


def test_anonymous_session_is_401_with_flows(headless):
    response = headless.get("/auth/session")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {
        "status": 401,
        "data": {"flows": anonymous_flows()},
        "meta": {"is_authenticated": False},
    }


def test_authenticated_session_body(logged_in, user):
    response = logged_in.get("/auth/session")
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    methods = body["data"]["methods"]
    assert len(methods) == 1 and methods[0]["method"] == "password"
    assert methods[0]["email"] == user.email and isinstance(methods[0]["at"], int)
    assert body == {
        "status": 200,
        "data": {
            "user": {
                "id": user.pk,
                "display": user.email,
                "email": user.email,
                "has_usable_password": True,
                "wallets": [],
            },
            "methods": methods,
        },
        "meta": {"is_authenticated": True},
    }


def test_logout_answers_401_and_ends_the_session(logged_in):
    token = logged_in.token
    response = logged_in.delete("/auth/session")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["meta"] == {"is_authenticated": False}
    if logged_in.kind == "app":
        again = logged_in.get("/auth/session", headers={"X-Session-Token": token})
        assert again.status_code == HTTPStatus.GONE
    else:
        assert logged_in.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db
def test_unknown_token_is_410_with_flows():
    client = HeadlessClient("app")
    response = client.get("/auth/session", headers={"X-Session-Token": "no-such-session-token"})
    assert response.status_code == HTTPStatus.GONE
    assert response.json() == {
        "status": 410,
        "data": {"flows": anonymous_flows()},
        "meta": {"is_authenticated": False},
    }


@pytest.mark.django_db
def test_bearer_header_is_the_same_token(user):
    client = HeadlessClient("app")
    client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    token, client.token = client.token, None
    response = client.get("/auth/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == HTTPStatus.OK
    assert "session_token" not in response.json()["meta"]


@pytest.mark.django_db
def test_app_client_gets_no_cookies(user):
    client = HeadlessClient("app")
    response = client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert response.cookies == {} or all(not c.value for c in response.cookies.values())
    assert response.json()["meta"]["session_token"] == client.token


def test_session_survives_a_redis_flush(logged_in, user):
    assert logged_in.get("/auth/session").status_code == HTTPStatus.OK
    get_redis_connection("default").flushdb()
    response = logged_in.get("/auth/session")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["user"]["id"] == user.pk


def test_session_reads_come_from_redis(logged_in):
    """Once cached, a session is read from Redis: the row can change under it."""
    logged_in.get("/auth/session")
    session = UserSession.objects.get(user__isnull=False)
    cached = cached_copy(session.session_key)
    assert cached is not None and "_auth_user_id" in cached


def test_sessions_list_and_end(make_headless, user):
    first, second = make_headless(), make_headless()
    for client in (first, second):
        response = client.post(
            "/auth/login",
            {"email": user.email, "password": PASSWORD},
            headers={"User-Agent": f"agent-{id(client)}"},
        )
        assert response.status_code == HTTPStatus.OK
    listing = first.get("/auth/sessions").json()["data"]
    assert len(listing) == 2
    current = [s for s in listing if s["is_current"]]
    other = [s for s in listing if not s["is_current"]]
    assert len(current) == 1 and current[0]["user_agent"] == f"agent-{id(first)}"
    assert other[0]["ip"] == "203.0.113.7"
    assert set(other[0]) == {"id", "created_at", "last_seen_at", "ip", "user_agent", "is_current"}

    response = first.delete("/auth/sessions", {"sessions": [other[0]["id"]]})
    assert response.status_code == HTTPStatus.OK
    assert [s["id"] for s in response.json()["data"]] == [current[0]["id"]]
    ended = second.get("/auth/session")
    assert ended.status_code == (HTTPStatus.GONE if second.kind == "app" else 401)


def test_ending_the_current_session_logs_out(logged_in):
    current = logged_in.get("/auth/sessions").json()["data"][0]
    response = logged_in.delete("/auth/sessions", {"sessions": [current["id"]]})
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_ending_an_unknown_session_is_400_invalid_choice(logged_in, user_factory):
    """As allauth answers (its input is a ModelMultipleChoiceField): another
    user's session id is as unknown as one that never existed, and nothing ends."""
    stranger = HeadlessClient(logged_in.kind)
    other = user_factory(email="bob@example.com")
    stranger.post("/auth/login", {"email": other.email, "password": PASSWORD})
    theirs = stranger.get("/auth/sessions").json()["data"][0]["id"]
    never = 2**52 + 7  # an id no session has (they are random below 2**53)
    assert theirs != never
    for ids in ([never], [theirs]):
        response = logged_in.delete("/auth/sessions", {"sessions": ids})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json() == {
            "status": 400,
            "errors": [
                {
                    "code": "invalid_choice",
                    "message": f"Unknown session id: {ids[0]}",
                    "param": "sessions",
                }
            ],
        }
    assert stranger.get("/auth/session").status_code == HTTPStatus.OK


def test_sessions_need_authentication(headless):
    assert headless.get("/auth/sessions").status_code == HTTPStatus.UNAUTHORIZED


@pytest.fixture
def redis_down(monkeypatch):
    """The session cache's Redis fails every call, as in an outage."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    import accounts.sessions

    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(accounts.sessions, "_raw_cache_client", lambda: dead)


def test_logout_without_redis_is_503_and_keeps_the_session(logged_in, redis_down):
    response = logged_in.delete("/auth/session")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    assert UserSession.objects.filter(user__isnull=False).count() == 1


def test_password_change_without_redis_changes_nothing(logged_in, user, redis_down):
    response = logged_in.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "a whole new passphrase 42"},
    )
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_login_works_without_redis(headless, user, redis_down):
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert headless.get("/auth/session").status_code == HTTPStatus.OK


def test_a_logout_removes_the_cached_copy(logged_in):
    logged_in.get("/auth/session")
    key = UserSession.objects.get(user__isnull=False).session_key
    assert cached_copy(key) is not None
    logged_in.delete("/auth/session")
    assert cached_copy(key) is None


def test_sign_in_writes_the_session_row_once(headless, user):
    with CaptureQueriesContext(connection) as queries:
        response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    writes = [q["sql"] for q in queries if "accounts_usersession" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("INSERT")
    assert not [q for q in queries if q["sql"] in ("BEGIN", "COMMIT")]


def test_rotation_ends_the_old_key_and_keeps_the_data(db):
    store = SessionStore()
    store["kept"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    assert not UserSession.objects.filter(session_key=old).exists()
    assert cached_copy(old) is None
    store.save()
    assert store.session_key != old
    assert SessionStore(session_key=store.session_key).load() == {"kept": 1}


def test_a_key_clash_draws_another_key(db, monkeypatch):
    taken = SessionStore()
    taken["owner"] = "first"
    taken.save()
    keys = iter([taken.session_key, "a" * 32])
    store = SessionStore()
    monkeypatch.setattr(store, "_get_new_session_key", lambda: next(keys))
    store["owner"] = "second"
    store.save()
    assert store.session_key == "a" * 32
    assert SessionStore(session_key=taken.session_key).load() == {"owner": "first"}


def _live_requests() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, HttpRequest))


@pytest.mark.parametrize(
    "path", ["/account/email", "/auth/sessions", "/auth/session", "/account/wallets"]
)
def test_unauthenticated_requests_do_not_stay_alive(headless, path):
    """Answering 401 must not keep the request (and all it holds) alive: a
    shared exception instance, raised again and again, chains every
    request's frames onto its traceback."""
    for _ in range(5):
        headless.get(path)
    before = _live_requests()
    for _ in range(50):
        assert headless.get(path).status_code == HTTPStatus.UNAUTHORIZED
    assert _live_requests() - before < 5


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_the_session_read_takes_the_api_dispatch(headless, user, sign_in, monkeypatch, signed_in):
    """What HeadlessApi.initial enforces (a step-up check, a limit) reaches
    GET /auth/session too, and its refusal answers in the envelope."""
    if signed_in:
        sign_in(headless, user)
    expected = HTTPStatus.OK if signed_in else HTTPStatus.UNAUTHORIZED
    assert headless.get("/auth/session").status_code == expected

    def refuse(self, request, *args, **kwargs):
        raise ApiError(429, Code.RATE_LIMITED, "Too many requests.", headers={"Retry-After": "7"})

    monkeypatch.setattr(HeadlessApi, "initial", refuse)
    response = headless.get("/auth/session")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Retry-After"] == "7"
    assert response.json() == {
        "status": 429,
        "errors": [{"code": "rate_limited", "message": "Too many requests."}],
    }


def test_the_session_read_headers(logged_in):
    response = logged_in.get("/auth/session")
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, DELETE, HEAD, OPTIONS"
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert "Expires" in response


@pytest.mark.django_db
def test_a_jwt_shaped_bearer_is_not_a_session_token(user):
    """Bearer carries the access token under the JWT strategy: a JWT-shaped
    value is never looked up as a session (401 with flows, not 410), and
    X-Session-Token still wins beside it."""
    client = HeadlessClient("app")
    client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    token, client.token = client.token, None
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4In0.c2lnbmF0dXJl"
    response = client.get("/auth/session", headers={"Authorization": f"Bearer {jwt}"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["meta"] == {"is_authenticated": False}
    both = {"Authorization": f"Bearer {jwt}", "X-Session-Token": token}
    assert client.get("/auth/session", headers=both).status_code == HTTPStatus.OK
    dotted = {"Authorization": "Bearer a.b"}  # not three parts: a (dead) session token
    assert client.get("/auth/session", headers=dotted).status_code == HTTPStatus.GONE


def test_bearer_parsing():
    from django.test import RequestFactory

    from accounts.clients import access_token_from_headers, token_from_headers

    def headers(**meta):
        return RequestFactory().get("/", **meta)

    jwt = "aGVhZA.cGF5bG9hZA.c2ln"
    assert token_from_headers(headers(HTTP_AUTHORIZATION="Bearer abc123")) == "abc123"
    assert access_token_from_headers(headers(HTTP_AUTHORIZATION="Bearer abc123")) is None
    assert token_from_headers(headers(HTTP_AUTHORIZATION=f"bearer {jwt}")) is None
    assert access_token_from_headers(headers(HTTP_AUTHORIZATION=f"bearer {jwt}")) == jwt
    assert access_token_from_headers(headers(HTTP_AUTHORIZATION=f"Basic {jwt}")) is None
    assert token_from_headers(headers(HTTP_X_SESSION_TOKEN=" t ")) == "t"
