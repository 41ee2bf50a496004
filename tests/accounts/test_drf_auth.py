"""The project's own DRF views accept the same session token."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as project_urls
from tests.conftest import PASSWORD, HeadlessClient


class WhoAmI(APIView):
    def get(self, request):
        return Response({"email": request.user.email})


urlpatterns = [path("api/me", WhoAmI.as_view()), *project_urls.urlpatterns]


@pytest.fixture
def token(user, db):
    client = HeadlessClient("app")
    client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    return client.token


@pytest.mark.urls("tests.accounts.test_drf_auth")
def test_token_in_either_header(token, user):
    for headers in ({"X-Session-Token": token}, {"Authorization": f"Bearer {token}"}):
        response = Client().get("/api/me", headers=headers)
        assert response.status_code == HTTPStatus.OK
        assert response.json() == {"email": user.email}


@pytest.mark.urls("tests.accounts.test_drf_auth")
def test_no_token_is_401_in_the_envelope(db):
    response = Client().get("/api/me")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["errors"][0]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.urls("tests.accounts.test_drf_auth")
def test_stale_token_is_410(db):
    response = Client().get("/api/me", headers={"X-Session-Token": "stale-token-value"})
    assert response.status_code == HTTPStatus.GONE
    assert response.json() == {
        "status": 410,
        "errors": [
            {"code": "invalid_session_token", "message": "The session token is no longer valid."}
        ],
    }
