"""Every answer under /_allauth/ is the JSON envelope, whatever the input."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", HTTPStatus.BAD_REQUEST, "invalid"),
        ("[1, 2]", HTTPStatus.BAD_REQUEST, "invalid"),
        ('"a string"', HTTPStatus.BAD_REQUEST, "invalid"),
        ("null", HTTPStatus.BAD_REQUEST, "invalid"),
        ('{"email": ["x"], "password": {"a": 1}}', HTTPStatus.BAD_REQUEST, "invalid"),
    ],
)
def test_bad_bodies(headless, raw, status, code):
    response = headless.request("POST", "/auth/login", raw=raw)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status
    assert body["errors"] and all(e["code"] == code for e in body["errors"])


def test_wrong_content_type_is_415(headless):
    headers = {}
    if headless.kind == "browser":
        headers["X-CSRFToken"] = headless.csrf_token()
    response = headless.http.post(
        headless.url("/auth/login"),
        "email=a@b.co&password=x",
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"


def test_unknown_method_is_405(headless):
    response = headless.request("PATCH", "/auth/login", {})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/nope", "/auth/nope", "/auth/login/extra"])
def test_unknown_paths_are_404_envelopes(headless, path):
    response = headless.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "status": 404,
        "errors": [{"code": "not_found", "message": "No such endpoint."}],
    }


@pytest.mark.django_db
def test_unknown_client_is_404_envelope():
    response = Client().get("/_allauth/desktop/v1/config")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.django_db
def test_browser_client_requires_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/_allauth/browser/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["errors"][0]["code"] == "csrf_failed"


@pytest.mark.django_db
def test_app_client_needs_no_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/_allauth/app/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == HTTPStatus.OK


def test_responses_are_never_cached(headless):
    response = headless.get("/auth/session")
    assert "no-store" in response["Cache-Control"]


def test_overlong_password_is_refused_before_hashing(headless):
    response = headless.post("/auth/login", {"email": "a@example.com", "password": "x" * 5000})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "password"
