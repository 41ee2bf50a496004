"""HTTP hardening: CSP on the admin and docs, body and JSON limits answered in
the envelope, CORS and CSRF origins for the browser client, `__Host-` cookies."""

from __future__ import annotations

import io
import json
import re
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import User
from accounts.security import BoundedJSONParser, nesting_exceeds
from tests.conftest import PASSWORD
from tests.test_schema import assert_documented

LIMIT = 64 * 1024
TOO_LARGE = {
    "status": 413,
    "errors": [{"code": "invalid", "message": f"The request body is larger than {LIMIT} bytes."}],
}
TOO_DEEP = {
    "status": 400,
    "errors": [{"code": "invalid", "message": "The request body is nested too deeply."}],
}
SPA = "https://app.example.com"


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# --- Content-Security-Policy --------------------------------------------------------


def _scripts_and_styles(html: str) -> tuple[list[str], list[str]]:
    scripts = re.findall(r"<script\b[^>]*>", html)
    styles = re.findall(r"<link\b[^>]*rel=\"stylesheet\"[^>]*>", html)
    return scripts, styles


@pytest.mark.django_db
def test_admin_pages_have_a_strict_csp_and_need_nothing_inline(user):
    client = Client()
    client.force_login(User.objects.create_superuser(email="root@example.com", password="x"))
    for url in ("/admin/", "/admin/accounts/authevent/", "/admin/accounts/user/"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
        scripts, _ = _scripts_and_styles(response.text)
        # Every script is a file, or inert JSON data: nothing the CSP would block.
        assert all("src=" in s or 'type="application/json"' in s for s in scripts), scripts
        assert ' style="' not in response.text and "<style" not in response.text
    login = Client().get("/admin/login/")
    assert login["Content-Security-Policy"] == settings.CSP_POLICIES["/admin/"]


def test_docs_page_loads_everything_from_this_origin(settings, db):
    """Swagger UI comes from drf-spectacular-sidecar's static files: no CDN to
    trust (a swapped file would run in the docs' origin), and the docs work offline."""
    settings.WHITENOISE_USE_FINDERS = True  # as collectstatic + WhiteNoise serve them
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == HTTPStatus.OK
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "://" not in policy
    assert "://" not in response.text  # no external host anywhere on the page
    scripts, styles = _scripts_and_styles(response.text)
    assert len(scripts) == 3 and len(styles) == 1
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert len(sources) == 5  # favicon, stylesheet, two bundles, the init script
    for source in sources:
        assert source.startswith("/") and not source.startswith("//"), source
        asset = client.get(source)
        assert asset.status_code == HTTPStatus.OK, source
        kind = asset["Content-Type"].split(";")[0]
        assert kind in ("text/css", "text/javascript", "application/javascript", "image/png")
    # The init script is a same-origin file, not inline, and names no other host.
    init = client.get("/api/docs/?script=")
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in init.text and '"validatorUrl": null' in init.text
    assert "://" not in init.text


def test_json_answers_carry_the_default_policy(db):
    response = Client().get("/_allauth/app/v1/config")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


# --- Body size and JSON depth ---------------------------------------------------------


def test_an_oversized_body_is_413_in_the_envelope(headless, schema):
    body = json.dumps({"email": "a@example.com", "password": "x" * LIMIT})
    response = headless.post("/auth/login", raw=body)
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == TOO_LARGE
    assert_documented(schema, response, headless.kind, "auth/login", "post")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/_allauth/browser/v1/auth/login", "application/x-www-form-urlencoded"),
        ("/_allauth/browser/v1/auth/login", "multipart/form-data; boundary=x"),
        ("/_allauth/app/v1/no/such/endpoint", "application/json"),
    ],
)
def test_oversized_bodies_of_any_kind_are_413(path, content_type):
    response = Client().generic("POST", path, b"a=" + b"x" * LIMIT, content_type=content_type)
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == TOO_LARGE


def test_a_body_at_the_limit_is_read(headless):
    body = json.dumps({"email": "a@example.com", "password": ""})
    body = body[:-1] + " " * (LIMIT - len(body)) + "}"
    assert len(body) == LIMIT
    response = headless.post("/auth/login", raw=body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "password"


def test_the_limit_reaches_a_cross_origin_client(settings, db):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = Client(headers={"Origin": SPA}).post(
        "/_allauth/browser/v1/auth/login", "x" * (LIMIT + 1), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response["Access-Control-Allow-Origin"] == SPA


@pytest.mark.parametrize("depth", [33, 100])
def test_deep_json_is_refused(headless, depth):
    response = headless.post("/auth/login", nested(depth))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == TOO_DEEP


@pytest.mark.parametrize("raw", ["[" * 30000 + "]" * 30000, "[" * 60000])
def test_json_deep_enough_to_crash_the_parser_is_a_400(headless, raw):
    """Left to `json`, this is a RecursionError (a 500): it is never parsed."""
    response = headless.post("/auth/login", raw=raw)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == TOO_DEEP


def test_depth_up_to_the_limit_is_fine(headless):
    body = {"email": "a@example.com", "password": "not the password", "x": nested(31)}
    response = headless.post("/auth/login", body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "email_password_mismatch"


def test_nesting_counts_lists_and_objects_but_not_brackets_in_strings():
    text = json.dumps({"a": [1, {"b": [2, "[[[{{{"]}], 'c\\"[': "]]]"})
    assert not nesting_exceeds(text, 4)
    assert nesting_exceeds(text, 3)
    assert not nesting_exceeds('"[[[["', 0)
    assert not nesting_exceeds(json.dumps(nested(32)), 32)
    assert nesting_exceeds(json.dumps(nested(33)), 32)


def test_the_parser_bounds_what_it_reads(settings):
    """Second line of defence: a stream longer than announced is cut at the limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    from accounts.errors import ApiError

    with pytest.raises(ApiError) as caught:
        BoundedJSONParser().parse(io.BytesIO(b'{"a": "0123456789"}'))
    assert caught.value.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert BoundedJSONParser().parse(io.BytesIO(b'{"a": 1}')) == {"a": 1}


def test_bad_json_is_still_400_invalid(headless):
    for raw in ('{"email": ', "NaN", '{"a": Infinity}', b"\xff\xfe{}"):
        response = headless.post("/auth/login", raw=raw)
        assert response.status_code == HTTPStatus.BAD_REQUEST, raw
        assert response.json()["errors"][0]["code"] == "invalid"


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/auth/wallet/challenge", '{"chain": "\\ud800", "address": "0x", "process": "login"}'),
        ("/auth/wallet/challenge", '{"chain": "eip155:1", "address": "0x\\udfff"}'),
        ("/auth/wallet/verify", '{"chain": "solana:mainnet", "address": "\\ud800", '
         '"message": "a\\ud800 wants you", "signature": "\\ud800"}'),
    ],
)  # fmt: skip
def test_a_lone_surrogate_is_a_400_not_a_500(headless, path, raw):
    """JSON's "\\ud800" is text no UTF-8 matcher can read; it must still be a clear 400."""
    response = headless.post(path, raw=raw)
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert response.json()["status"] == 400


# --- CORS and CSRF origins ------------------------------------------------------------


@pytest.fixture
def spa_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.CSRF_TRUSTED_ORIGINS = [SPA]


def test_an_allowed_origin_gets_cors_with_credentials(spa_origin, db):
    client = Client(headers={"Origin": SPA})
    response = client.get("/_allauth/browser/v1/config")
    assert response["Access-Control-Allow-Origin"] == SPA
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "x-request-id" in response["Access-Control-Expose-Headers"].lower()
    preflight = client.options(
        "/_allauth/browser/v1/auth/login",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrftoken",
        },
    )
    assert preflight.status_code == HTTPStatus.OK
    assert preflight["Access-Control-Allow-Origin"] == SPA
    assert "x-csrftoken" in preflight["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.com.evil.io"])
def test_other_origins_get_no_cors_at_all(spa_origin, db, origin):
    client = Client(headers={"Origin": origin})
    for response in (
        client.get("/_allauth/browser/v1/config"),
        client.options(
            "/_allauth/browser/v1/auth/login", headers={"Access-Control-Request-Method": "POST"}
        ),
    ):
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


def test_cors_stays_off_outside_the_api(spa_origin, db):
    response = Client(headers={"Origin": SPA}).get("/health/live")
    assert "Access-Control-Allow-Origin" not in response


def _https_login(origin: str, user) -> int:
    client = Client(enforce_csrf_checks=True)
    client.get("/_allauth/browser/v1/config", secure=True)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        "/_allauth/browser/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        headers={"X-CSRFToken": token, "Origin": origin},
        secure=True,
    )
    return response.status_code


def test_csrf_trusts_only_the_configured_origins(spa_origin, user):
    assert _https_login(SPA, user) == HTTPStatus.OK
    assert _https_login("https://evil.example", user) == HTTPStatus.FORBIDDEN


# --- Cookies ----------------------------------------------------------------------------


def test_host_prefixed_cookies_are_host_only_secure_and_site_wide(settings, user):
    settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE = "__Host-sessionid", True
    settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE = "__Host-csrftoken", True
    client = Client(enforce_csrf_checks=True)
    client.get("/_allauth/browser/v1/config", secure=True)
    token = client.cookies["__Host-csrftoken"].value
    response = client.post(
        "/_allauth/browser/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
        headers={"X-CSRFToken": token, "Origin": "https://testserver"},
        secure=True,
    )
    assert response.status_code == HTTPStatus.OK
    for name in ("__Host-sessionid", "__Host-csrftoken"):
        cookie = client.cookies[name]
        assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"], name


# --- Errors Django answers itself -----------------------------------------------------


@pytest.mark.django_db
def test_unknown_urls_are_404_in_the_envelope_but_admin_keeps_its_pages():
    response = Client().get("/no/such/page")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "status": 404,
        "errors": [{"code": "not_found", "message": "No such endpoint."}],
    }
    admin = Client().get("/admin/no/such/page/")
    assert admin["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_disallowed_host_is_400_in_the_envelope():
    response = Client(HTTP_HOST="evil.example").get("/_allauth/app/v1/config")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "status": 400,
        "errors": [{"code": "invalid", "message": "Bad request."}],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OperationalError("connection refused"), 503, "service_unavailable"),
        (RedisConnectionError("connection refused"), 503, "service_unavailable"),
        (RuntimeError("a bug"), 500, "server_error"),
    ],
)
def test_errors_before_any_view_are_the_envelope(monkeypatch, error, status, code):
    """A session lookup fails in middleware, where DRF's handler cannot help."""

    def fail(token):
        raise error

    monkeypatch.setattr("accounts.middleware.session_lookup", fail)
    client = Client(raise_request_exception=False, headers={"X-Session-Token": "t" * 32})
    response = client.get("/_allauth/app/v1/auth/session")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert [e["code"] for e in response.json()["errors"]] == [code]
