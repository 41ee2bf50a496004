"""The app client's JWT strategy over the API: issue, use, rotate, revoke."""

from __future__ import annotations

import threading
from http import HTTPStatus

import jwt
import pytest
from django.db import connection
from django.test import Client
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.tokens import keys
from config import urls as project_urls
from config.settings.test import CACHES
from tests.accounts.tokens.conftest import bearer
from tests.conftest import PASSWORD, HeadlessClient


class WhoAmI(APIView):
    def get(self, request):
        return Response({"id": request.user.pk, "email": request.user.email})


urlpatterns = [path("api/me", WhoAmI.as_view()), *project_urls.urlpatterns]


def _claims(token: str) -> dict:
    public = keys.verification_keys()[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, public, algorithms=["ES256"], audience="signet", issuer="signet")


def test_session_strategy_answers_no_jwt(app, user, settings):
    settings.SIGNET_TOKEN_STRATEGY = "session"
    meta = app.post("/auth/login", {"email": user.email, "password": PASSWORD}).json()["meta"]
    assert "session_token" in meta
    assert "access_token" not in meta and "refresh_token" not in meta


def test_login_answer_carries_both_tokens(signed_in, user):
    assert signed_in["is_authenticated"] is True
    assert signed_in["session_token"]
    header = jwt.get_unverified_header(signed_in["access_token"])
    assert header["alg"] == "ES256" and header["kid"] == keys.current_key().kid
    claims = _claims(signed_in["access_token"])
    assert claims["sub"] == str(user.pk)
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["sid"], int)
    assert {"iat", "exp", "jti", "nbf"} <= claims.keys()
    assert "." not in signed_in["refresh_token"]  # opaque: never taken for a JWT


def test_browser_login_has_no_tokens(user, db):
    browser = HeadlessClient("browser")
    meta = browser.post("/auth/login", {"email": user.email, "password": PASSWORD}).json()["meta"]
    assert meta == {"is_authenticated": True}


def test_access_token_authenticates_the_headless_api(signed_in, user, db):
    response = HeadlessClient("app").get("/auth/session", headers=bearer(signed_in["access_token"]))
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["data"]["user"]["email"] == user.email


@pytest.mark.urls("tests.accounts.tokens.test_tokens")
def test_access_token_authenticates_a_project_view(signed_in, user, django_assert_num_queries):
    response = Client().get("/api/me", headers=bearer(signed_in["access_token"]))
    assert response.json() == {"id": user.pk, "email": user.email}


class PkOnly(APIView):
    def get(self, request):
        return Response({"id": request.user.pk})


@pytest.mark.urls("tests.accounts.tokens.test_tokens_noio")
def test_access_token_needs_no_database_or_redis(
    signed_in, user, settings, django_assert_num_queries
):
    # Every cache pointed at a closed port: a Redis read would fail, or fall
    # back to the database, which must see no query either.
    settings.CACHES = {
        name: {**conf, "LOCATION": "redis://127.0.0.1:9/0"} for name, conf in CACHES.items()
    }
    with django_assert_num_queries(0):
        response = Client().get("/api/pk", headers=bearer(signed_in["access_token"]))
    assert response.json() == {"id": user.pk}


def test_refresh_rotates(signed_in, app):
    response = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.OK, response.content
    data = response.json()["data"]
    assert data["refresh_token"] != signed_in["refresh_token"]
    assert _claims(data["access_token"])["sid"] == _claims(signed_in["access_token"])["sid"]
    # The new one works once more.
    again = app.post("/tokens/refresh", {"refresh_token": data["refresh_token"]})
    assert again.status_code == HTTPStatus.OK


def test_reuse_revokes_the_family(signed_in, app):
    first = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    rotated = first.json()["data"]["refresh_token"]
    stolen = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert stolen.status_code == HTTPStatus.BAD_REQUEST
    assert stolen.json()["errors"][0] == {
        "code": "invalid",
        "message": "The refresh token is invalid or expired.",
        "param": "refresh_token",
    }
    # The legitimate holder's rotated token is gone too: the family is revoked.
    assert app.post("/tokens/refresh", {"refresh_token": rotated}).status_code == 400


@pytest.mark.parametrize("value", ["", "x" * 257, "not-a-token", "a.b.c"])
def test_bad_refresh_tokens(app, value, db):
    response = app.post("/tokens/refresh", {"refresh_token": value})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "refresh_token"


def test_logout_revokes(signed_in, app):
    assert app.delete("/auth/session").status_code == HTTPStatus.UNAUTHORIZED
    fresh = HeadlessClient("app")  # no longer sending the ended session's token
    response = fresh.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_logout_by_access_token_ends_its_session(signed_in, user, db):
    client = HeadlessClient("app")
    response = client.delete("/auth/session", headers=bearer(signed_in["access_token"]))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    # The session token of that sign-in is dead too, and so is its refresh token.
    gone = HeadlessClient("app").get(
        "/auth/session", headers={"X-Session-Token": signed_in["session_token"]}
    )
    assert gone.status_code == HTTPStatus.GONE
    refresh = client.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert refresh.status_code == HTTPStatus.BAD_REQUEST


def test_ended_session_revokes(signed_in, user, db):
    other = HeadlessClient("app")
    other.post("/auth/login", {"email": user.email, "password": PASSWORD})
    sid = _claims(signed_in["access_token"])["sid"]
    ended = other.delete("/auth/sessions", {"sessions": [sid]})
    assert ended.status_code == HTTPStatus.OK, ended.content
    response = other.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_password_change_elsewhere_revokes(signed_in, user, db):
    other = HeadlessClient("app")
    other.post("/auth/login", {"email": user.email, "password": PASSWORD})
    changed = other.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "another Long passphrase 42"},
    )
    assert changed.status_code == HTTPStatus.OK, changed.content
    response = other.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_deactivated_user_cannot_refresh(signed_in, app, user):
    user.is_active = False
    user.save()
    response = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_browser_has_no_refresh(signed_in, db):
    browser = HeadlessClient("browser")
    response = browser.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_exactly_one_wins(user):
    app = HeadlessClient("app")
    meta = app.post("/auth/login", {"email": user.email, "password": PASSWORD}).json()["meta"]
    barrier = threading.Barrier(4)
    results: list[int] = []

    def refresh():
        try:
            barrier.wait()
            response = HeadlessClient("app").post(
                "/tokens/refresh", {"refresh_token": meta["refresh_token"]}
            )
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 400, 400, 400]
