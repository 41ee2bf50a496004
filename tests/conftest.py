"""Shared fixtures: real PostgreSQL (per-run database) and real Redis (per-run
key prefix, emptied between tests), and clients for both headless kinds."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from accounts.models import EmailAddress, User

PASSWORD = "correct horse battery staple"


def _flush_redis_prefix() -> None:
    from django_redis import get_redis_connection

    conn = get_redis_connection("default")
    # The prefix and its separator: run 12 must not match run 129's keys.
    keys = list(conn.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000))
    if keys:
        conn.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    _flush_redis_prefix()
    yield
    _flush_redis_prefix()


class HeadlessClient:
    """Speaks to /_allauth/<kind>/v1 as a real client of that kind would:
    the app client keeps the session token it is given, the browser client
    keeps cookies and sends the CSRF token."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.http = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")
        self.token: str | None = None

    def url(self, path: str) -> str:
        return f"/_allauth/{self.kind}/v1{path}"

    def csrf_token(self) -> str:
        cookie = self.http.cookies.get(settings.CSRF_COOKIE_NAME)
        if cookie is None:
            self.http.get(self.url("/config"))
            cookie = self.http.cookies[settings.CSRF_COOKIE_NAME]
        return cookie.value

    def request(self, method: str, path: str, data=None, headers: dict | None = None, raw=None):
        headers = dict(headers or {})
        if self.kind == "app" and self.token and "X-Session-Token" not in headers:
            headers["X-Session-Token"] = self.token
        if self.kind == "browser" and method != "GET":
            headers.setdefault("X-CSRFToken", self.csrf_token())
        body = raw if raw is not None else ("" if data is None else json.dumps(data))
        response = self.http.generic(
            method, self.url(path), body, content_type="application/json", headers=headers
        )
        if self.kind == "app" and response.get("Content-Type") == "application/json":
            token = response.json().get("meta", {}).get("session_token")
            if token:
                self.token = token
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data, **kw)

    def put(self, path, data=None, **kw):
        return self.request("PUT", path, data, **kw)

    def patch(self, path, data=None, **kw):
        return self.request("PATCH", path, data, **kw)

    def delete(self, path, data=None, **kw):
        return self.request("DELETE", path, data, **kw)


@pytest.fixture(scope="module")
def schema() -> dict:
    """The OpenAPI schema drf-spectacular generates (what /api/schema/ serves)."""
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(params=["app", "browser"])
def client_kind(request) -> str:
    return request.param


@pytest.fixture
def headless(client_kind, db) -> HeadlessClient:
    return HeadlessClient(client_kind)


@pytest.fixture
def make_headless(client_kind, db):
    return lambda: HeadlessClient(client_kind)


@pytest.fixture
def user_factory(db):
    def make(email: str = "alice@example.com", password: str | None = PASSWORD, verified=True):
        user = User.objects.create_user(email=email, password=password)
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
        return user

    return make


@pytest.fixture
def user(user_factory):
    return user_factory()


@pytest.fixture
def logged_in(headless, user):
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return headless


@pytest.fixture
def sign_in():
    """Sign a user in without a password (as a wallet sign-in would), recording
    the sign-in as the session's authentication (step-up counts from it)."""
    from accounts.flows.signin import Method, method_record
    from accounts.sessions import METHODS

    def do(client: HeadlessClient, user) -> None:
        if client.kind == "browser":
            client.http.force_login(user)
            session = client.http.session
            session[METHODS] = [method_record(Method.WALLET)]
            session.save()
            return
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

        from accounts.flows.signin import BACKEND
        from accounts.sessions import SessionStore

        store = SessionStore()
        store[METHODS] = [method_record(Method.WALLET)]
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = BACKEND
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        client.token = store.session_key

    return do
