"""The OpenAPI schema: generated cleanly, complete, and true to what the API answers.

Real responses are validated against the documented body of their status, so
the schema cannot drift from the views unnoticed.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from django.urls import URLPattern

from accounts.api import urls as account_urls
from tests.conftest import PASSWORD

PREFIX = "/_allauth/{client}/v1/"


def _inline(node: Any, components: dict) -> Any:
    """Resolve $refs and turn OpenAPI 3.0 `nullable` into JSON Schema."""
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(components[node["$ref"].rsplit("/", 1)[-1]], components)
    out = {key: _inline(value, components) for key, value in node.items()}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_documented(schema: dict, response, client: str, path: str, method: str) -> None:
    operation = schema["paths"][PREFIX.format(client=client) + path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} answered undocumented {status}"
    body_schema = operation["responses"][status]["content"]["application/json"]["schema"]
    jsonschema.validate(response.json(), _inline(body_schema, schema["components"]["schemas"]))


def test_generates_valid_schema_without_warnings(tmp_path) -> None:
    # Fails on any drf-spectacular warning or error, then validates against OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def assert_paths_documented(schema, urlpatterns, client: str) -> None:
    """Every path of `urlpatterns` is in the schema, with exactly its view's methods."""
    for pattern in urlpatterns:
        assert isinstance(pattern, URLPattern)
        path = PREFIX.format(client=client) + str(pattern.pattern)
        assert path in schema["paths"], path
        view = pattern.callback.view_class
        methods = {m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        assert set(schema["paths"][path]) == methods, path


@pytest.mark.parametrize("client", ["app", "browser"])
def test_every_accounts_endpoint_and_method_is_documented(schema, client) -> None:
    assert_paths_documented(schema, account_urls.urlpatterns, client)


def test_login_documents_every_status(schema) -> None:
    app = schema["paths"]["/_allauth/app/v1/auth/login"]["post"]
    browser = schema["paths"]["/_allauth/browser/v1/auth/login"]["post"]
    common = {"200", "400", "401", "409", "413", "415", "429", "503"}
    assert set(app["responses"]) == common | {"410"}
    assert set(browser["responses"]) == common | {"403"}
    assert "Retry-After" in app["responses"]["429"]["headers"]
    assert "`email_password_mismatch`" in app["responses"]["400"]["description"]
    assert app["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoginInputRequest"
    }


def test_every_operation_with_a_body_documents_413(schema) -> None:
    """Found by the fuzzer: any body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413."""
    with_body = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(with_body) > 20
    for path, method, operation in with_body:
        assert "413" in operation["responses"], f"{method} {path}"


def test_security_per_client(schema) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["sessionToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Session-Token",
        "description": schemes["sessionToken"]["description"],
    }
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert {schemes["sessionCookie"]["in"], schemes["csrfToken"]["in"]} == {"cookie", "header"}
    paths = schema["paths"]
    app_login = paths["/_allauth/app/v1/auth/login"]["post"]["security"]
    assert app_login == [{"sessionToken": []}, {"bearerToken": []}, {}]
    browser_login = paths["/_allauth/browser/v1/auth/login"]["post"]["security"]
    assert browser_login == [{"sessionCookie": [], "csrfToken": []}, {"csrfToken": []}]
    # Signed-in only: no anonymous alternative.
    browser_emails = paths["/_allauth/browser/v1/account/email"]["get"]["security"]
    assert browser_emails == [{"sessionCookie": []}]


def test_request_bodies_of_patch_and_delete_are_not_partial(schema) -> None:
    email = schema["paths"]["/_allauth/app/v1/account/email"]
    patch = email["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert patch == {"$ref": "#/components/schemas/MarkPrimaryInputRequest"}
    required = schema["components"]["schemas"]["MarkPrimaryInputRequest"]["required"]
    assert required == ["email", "primary"]
    assert email["delete"]["requestBody"]["required"] is True


def test_real_responses_match_the_schema(schema, headless, user) -> None:
    kind = headless.kind
    response = headless.get("/config")
    assert_documented(schema, response, kind, "config", "get")
    response = headless.get("/auth/session")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert_documented(schema, response, kind, "auth/session", "get")
    response = headless.post("/auth/login", {"email": user.email, "password": "wrong"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert_documented(schema, response, kind, "auth/login", "post")
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
    assert_documented(schema, response, kind, "auth/login", "post")
    for path in ("account/email", "auth/sessions", "auth/session"):
        response = headless.get("/" + path)
        assert response.status_code == HTTPStatus.OK
        assert_documented(schema, response, kind, path, "get")
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.CONFLICT
    assert_documented(schema, response, kind, "auth/login", "post")
    response = headless.delete("/auth/session")
    assert_documented(schema, response, kind, "auth/session", "delete")
    if kind == "app":
        response = headless.get("/auth/session")  # the token died with the session
        assert response.status_code == HTTPStatus.GONE
        assert_documented(schema, response, kind, "auth/session", "get")


def test_docs_page_and_schema_are_served(client) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/html")
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == HTTPStatus.OK
    assert "/_allauth/app/v1/auth/login" in response.json()["paths"]
