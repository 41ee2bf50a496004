"""allauth's headless spec as a validator of Signet's answers (tests/test_allauth_spec.py).

The spec is the `openapi.yaml` inside the installed django-allauth wheel (a dev
dependency for this only). Its schemas are OpenAPI 3.0 and are validated as
JSON Schema 2020-12 (jsonschema), `$ref`s resolved against the document's own
components. What the test adds to allauth's document, each said why:

- Signet's documented extensions (`x-signet-extensions` in Signet's schema):
  extra flow ids and the `wallet` authentication method;
- errata: `AuthenticationMethod` is a `oneOf` whose "password" and
  "reauthenticated by password" branches both match a reauthentication
  record, and `AuthenticationOrReauthentication` one whose branches both
  match a reauthentication answer, so allauth's own answers fail them; both
  are checked as `anyOf`;
- erratum: GET /auth/webauthn/signup answers creation options (allauth's
  SignupWebAuthnView.get: AddWebAuthnResponse), its spec names request options;
- the 401 of the MFA views that need a recent authentication is either
  answer (REAUTHENTICATION_OR_AUTHENTICATION), as the spec has it for
  POST /account/email;
- answers allauth gives that its spec leaves out (BEHAVIOUR_NOT_IN_SPEC);
- answers where Signet deliberately differs from allauth (SIGNET_DIFFERS,
  each in README's section of that feature).
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import allauth
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounts.api.openapi import EXTENSION_FLOW_IDS, EXTENSION_METHODS

SPEC_PATH = Path(allauth.__file__).parent / "headless" / "spec" / "doc" / "openapi.yaml"
BASE = "urn:allauth-headless-openapi"
METHODS = ("get", "put", "post", "delete", "patch")
CLIENTS = ("app", "browser")
ANY_CLIENT = "/_allauth/{client}/v1"

# The `wallet` method as Signet records it (accounts.flows.signin).
WALLET_METHOD = {
    "type": "object",
    "title": "Signet: signed in by a wallet signature",
    "properties": {
        "method": {"type": "string", "enum": list(EXTENSION_METHODS)},
        "at": {"$ref": "#/components/schemas/Timestamp"},
        "chain": {"type": "string"},
        "address": {"type": "string"},
    },
    "required": ["method", "at", "chain", "address"],
}

# Answers allauth gives that its spec does not list: (status, response, why).
# `when` says to which operations: "any", "app" (app client only), "unsafe"
# (browser client, unsafe method), "body" (operations with a request body),
# or a set of (method, path) pairs.
BEHAVIOUR_NOT_IN_SPEC: list[tuple[str, str, Any, str]] = [
    (
        "410",
        "SessionGone",
        "app",
        "a stale session token answers 410 on every endpoint (allauth's authkit)",
    ),
    ("429", "TooManyRequests", "any", "every rate-limited endpoint answers 429"),
    ("403", "Forbidden", "unsafe", "a failed CSRF check answers 403"),
    ("400", "Error", "body", "every input is validated; an invalid one answers 400"),
    (
        "401",
        "Authentication",
        {
            ("GET", "/auth/sessions"),
            ("PUT", "/account/email"),
            ("PATCH", "/account/email"),
            ("DELETE", "/account/email"),
            ("POST", "/auth/reauthenticate"),
            ("POST", "/auth/2fa/reauthenticate"),
            ("GET", "/account/authenticators/totp"),
        },
        "views that need a signed-in user answer 401 with the flows when nobody is",
    ),
    (
        "401",
        "Authentication",
        {("POST", "/auth/2fa/trust")},
        "TrustView answers 401 with the flows when no sign-in waits at mfa_trust",
    ),
    (
        "200",
        "Authenticated",
        {("POST", "/account/password/change")},
        "ChangePasswordView answers with the authentication response",
    ),
    (
        "200",
        "RecoveryCodes",
        {("POST", "/account/authenticators/recovery-codes")},
        "ManageRecoveryCodesView.post answers with the new set (its spec lists no 200)",
    ),
]

# Answers where Signet differs from allauth on purpose: (status, response, when, why).
SIGNET_DIFFERS: list[tuple[str, dict, Any, str]] = [
    (
        "409",
        {
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ConflictResponse"}}
            }
        },
        {("POST", "/auth/2fa/authenticate"), ("POST", "/auth/2fa/trust")},
        "a code or trust answer sent while signed in is 409 already_authenticated (allauth: 401)",
    ),
]

# allauth's AuthenticatedAPIView answers 401 without a signed-in user before
# its flows ask for a recent authentication; these list only the latter.
REAUTHENTICATION_OR_AUTHENTICATION = {
    ("POST", "/account/authenticators/totp"),
    ("DELETE", "/account/authenticators/totp"),
    ("GET", "/account/authenticators/recovery-codes"),
    ("POST", "/account/authenticators/recovery-codes"),
}


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema 2020-12, refs made absolute."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_json_schema(v) for k, v in node.items() if k != "nullable"}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = BASE + out["$ref"]
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def raw_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


@cache
def spec() -> dict:
    """allauth's document with Signet's extensions and the erratum applied."""
    document = copy.deepcopy(raw_spec())
    schemas = document["components"]["schemas"]
    schemas["Flow"]["properties"]["id"]["enum"] += list(EXTENSION_FLOW_IDS)
    method = schemas["AuthenticationMethod"]
    method["anyOf"] = [*method.pop("oneOf"), WALLET_METHOD]
    either = document["components"]["responses"]["AuthenticationOrReauthentication"]
    either_schema = either["content"]["application/json"]["schema"]
    either_schema["anyOf"] = either_schema.pop("oneOf")
    passkey_signup = document["paths"][ANY_CLIENT + "/auth/webauthn/signup"]["get"]
    assert passkey_signup["responses"]["200"]["$ref"].endswith("WebAuthnRequestOptionsResponse")
    passkey_signup["responses"]["200"] = {
        "$ref": "#/components/responses/WebAuthnCreationOptionsResponse"
    }
    for method_name, path in REAUTHENTICATION_OR_AUTHENTICATION:
        op = document["paths"][ANY_CLIENT + path][method_name.lower()]
        assert op["responses"]["401"] == {"$ref": "#/components/responses/ReauthenticationRequired"}
        op["responses"]["401"] = {"$ref": "#/components/responses/AuthenticationOrReauthentication"}
    return document


@cache
def _registry() -> Registry:
    resource = Resource(contents=_as_json_schema(spec()), specification=DRAFT202012)
    return Registry().with_resource(BASE, resource)


def operations() -> dict[tuple[str, str], dict]:
    """allauth's operations by (METHOD, path), `{client}` kept as in the spec."""
    return {
        (method.upper(), path): op
        for path, item in raw_spec()["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def concrete(path: str) -> list[str]:
    return [path.replace("{client}", c) for c in CLIENTS] if "{client}" in path else [path]


def operation_for(method: str, url: str) -> tuple[str, str] | None:
    """The allauth operation a concrete request URL is, if any."""
    for (m, path), _op in operations().items():
        if m == method and url in concrete(path):
            return (m, path)
    return None


def _deref(node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = spec()["components"][kind][name]
    return node


def _applies(when: Any, *, key: tuple[str, str], client: str, op: dict) -> bool:
    method, path = key
    if when == "any":
        return True
    if when == "app":
        return client == "app"
    if when == "unsafe":
        return client == "browser" and method != "GET"
    if when == "body":
        return "requestBody" in op
    return (method, re.sub(r"^/_allauth/[^/]+/v1", "", path)) in when


def allowed_responses(key: tuple[str, str], client: str) -> dict[str, dict]:
    op = spec()["paths"][key[1]][key[0].lower()]
    allowed = {status: _deref(r) for status, r in op["responses"].items()}
    for status, name, when, _why in BEHAVIOUR_NOT_IN_SPEC:
        if status not in allowed and _applies(when, key=key, client=client, op=op):
            allowed[status] = spec()["components"]["responses"][name]
    for status, response, when, _why in SIGNET_DIFFERS:
        if status not in allowed and _applies(when, key=key, client=client, op=op):
            allowed[status] = response
    return allowed


def validate(key: tuple[str, str], client: str, status: int, body: Any) -> None:
    """Fail unless allauth's spec allows `status` for this operation and `body` fits."""
    allowed = allowed_responses(key, client)
    where = f"{key[0]} {key[1]} ({client})"
    assert str(status) in allowed, f"{where}: {status} is not an answer allauth gives: {body}"
    content = allowed[str(status)].get("content", {}).get("application/json")
    if content is None:
        return
    validator = Draft202012Validator(_as_json_schema(content["schema"]), registry=_registry())
    error = best_match(validator.iter_errors(body))
    assert error is None, (
        f"{where} {status}: {error.message} at {list(error.absolute_path)} "
        f"(schema {list(error.absolute_schema_path)}): {body}"
    )
