"""OpenAPI 3 description of the headless API (drf-spectacular), kept out of the views.

`document("pkg.module.ViewApi", post=ApiOperation(...))` registers a view
extension: at schema time drf-spectacular swaps the view for a subclass carrying
`HeadlessAutoSchema`, which renders the operation once per client path. What
every endpoint answers in common is added here, once, so a view's entry lists
only its own outcomes:

- app paths: 410 for a stale session token; session token or Bearer security;
- browser paths: 403 `csrf_failed` on unsafe methods; cookie + CSRF security;
- a request body: 400 `invalid`/`required`, 413 `invalid` (larger than
  DATA_UPLOAD_MAX_MEMORY_SIZE) and 415; `rate_limited`: 429 with
  Retry-After; `dependencies`: 503 `service_unavailable`;
- views that need a signed-in user (AuthenticatedApi): 401 with the flows;
  `reauthentication`: that 401 may also be allauth's ReauthenticationRequired
  (signed in, not recently enough: the flows to step up with).

The endpoints themselves are described with `document`, `envelope` and
`ApiOperation` next to their views: accounts.api.schema, wallets.api.schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.conf import settings
from drf_spectacular.drainage import warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentIdentity, ResolvedComponent
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema_field,
)
from rest_framework import serializers

from accounts.clients import Client, client_for_path
from accounts.errors import Code

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Flow ids from allauth's spec (its Flow.id enum) that Signet answers with.
ALLAUTH_FLOW_IDS = [
    "login",
    "login_by_code",
    "signup",
    "verify_email",
    "reauthenticate",
    "reauthenticate_by_code",
    "mfa_authenticate",
    "mfa_reauthenticate",
]
# Signet's additions to allauth's flow list, each with what it means. A
# client written for allauth's spec skips ids it does not know.
EXTENSION_FLOW_IDS = {
    "wallet_login": "Sign in with a wallet: POST /auth/wallet/challenge, then /auth/wallet/verify.",
    "wallet_reauthenticate": "Reauthenticate by signing a wallet challenge with "
    '`process: "reauthenticate"` (offered when the user has a wallet).',
    "mfa_login_webauthn": "allauth's own flow, missing from its spec's list: passkey login "
    "(MFA_PASSKEY_LOGIN_ENABLED), GET then POST /auth/webauthn/login.",
    "mfa_trust": "allauth's own flow, missing from its spec's list: after a second factor "
    "on the browser client (MFA_TRUST_ENABLED), answer POST /auth/2fa/trust.",
    # allauth's own (its Flow enum in code), missing from its spec's list.
    "mfa_signup_webauthn": "A passkey signup whose address is verified: GET "
    "/auth/webauthn/signup for creation options, PUT the credential to sign in.",
    "password_reset_by_code": "allauth's own flow, missing from its spec's list: with "
    "ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED, POST /auth/password/request starts it; "
    "`is_pending` while a code is out.",
}
FLOW_IDS = [*ALLAUTH_FLOW_IDS, *EXTENSION_FLOW_IDS]
# Authentication methods Signet adds to allauth's (`password`, `password_reset`, ...).
EXTENSION_METHODS = {"wallet": "Signed in by a wallet signature: `chain` and `address`."}
EXTENSIONS_KEY = "x-signet-extensions"


def _extensions_help(extensions: Mapping[str, str]) -> str:
    listed = "; ".join(f"`{name}`: {meaning}" for name, meaning in extensions.items())
    return f"Signet's additions to allauth's list ({EXTENSIONS_KEY}): {listed}"


# --- Envelope components ------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[c.value for c in Code], help_text="Stable string clients switch on."
    )
    message = serializers.CharField(help_text="Human-readable; may change.")
    param = serializers.CharField(required=False, help_text="The input field at fault.")


class ErrorResponseSerializer(serializers.Serializer):
    """`{"status", "errors": [{"code", "message", "param"?}]}`"""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    errors = ErrorSerializer(many=True)


@extend_schema_field(
    {
        "type": "string",
        "enum": FLOW_IDS,
        "description": _extensions_help(EXTENSION_FLOW_IDS),
        EXTENSIONS_KEY: list(EXTENSION_FLOW_IDS),
    }
)
class FlowIdField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "enum": ["password", "password_reset", "code", "mfa", *EXTENSION_METHODS],
        "description": _extensions_help(EXTENSION_METHODS),
        EXTENSIONS_KEY: list(EXTENSION_METHODS),
    }
)
class MethodField(serializers.CharField):
    pass


class RecipientSerializer(serializers.Serializer):
    email = serializers.EmailField()


class FlowSerializer(serializers.Serializer):
    id = FlowIdField()
    is_pending = serializers.BooleanField(
        required=False, help_text="The flow this session is in the middle of."
    )
    types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`mfa_*` flows: the authenticator types that can complete it.",
    )
    recipients = RecipientSerializer(
        many=True,
        required=False,
        help_text="`reauthenticate_by_code`: the verified addresses a code can go to.",
    )


class WalletSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    chain = serializers.CharField(help_text="CAIP-2 chain id, e.g. `eip155:1`.")
    address = serializers.CharField(help_text="Canonical address.")
    account_id = serializers.CharField(help_text="CAIP-10 account id.")
    created_at = serializers.FloatField(help_text="Unix timestamp.")
    last_used_at = serializers.FloatField(allow_null=True, help_text="Unix timestamp.")


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display = serializers.CharField()
    email = serializers.EmailField(
        required=False, help_text="The primary address; absent for a wallet-only user."
    )
    has_usable_password = serializers.BooleanField()
    wallets = WalletSerializer(many=True)


class MethodSerializer(serializers.Serializer):
    method = MethodField()
    at = serializers.IntegerField(help_text="Unix timestamp.")
    email = serializers.EmailField(required=False)
    chain = serializers.CharField(required=False)
    address = serializers.CharField(required=False)
    request_id = serializers.CharField(
        required=False, help_text="Wallet: the signed message's Request ID, when it had one."
    )
    resources = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Wallet: the signed message's Resources (e.g. ReCaps), when it had any.",
    )
    reauthenticated = serializers.BooleanField(required=False)
    type = serializers.CharField(required=False, help_text="`mfa`: the authenticator type.")


def _session_token() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        help_text="App client only, when the session is new or its token rotated: "
        "send it back as `X-Session-Token`.",
    )


class AuthMetaSerializer(serializers.Serializer):
    is_authenticated = serializers.BooleanField()
    session_token = _session_token()
    access_token = serializers.CharField(
        required=False, help_text="App client, SIGNET_TOKEN_STRATEGY=jwt: an ES256 JWT."
    )
    refresh_token = serializers.CharField(
        required=False, help_text="App client, SIGNET_TOKEN_STRATEGY=jwt: for /tokens/refresh."
    )


@extend_schema_field({"type": "boolean", "enum": [False]})
class FalseField(serializers.BooleanField):
    pass


@extend_schema_field({"type": "boolean", "enum": [True]})
class TrueField(serializers.BooleanField):
    pass


class NotAuthenticatedMetaSerializer(serializers.Serializer):
    is_authenticated = FalseField()


class ReauthenticationMetaSerializer(serializers.Serializer):
    is_authenticated = TrueField()
    session_token = _session_token()


class AuthenticatedDataSerializer(serializers.Serializer):
    user = UserSerializer()
    methods = MethodSerializer(many=True)


class FlowsDataSerializer(serializers.Serializer):
    flows = FlowSerializer(many=True)


class ReauthenticationDataSerializer(serializers.Serializer):
    user = UserSerializer()
    methods = MethodSerializer(many=True)
    flows = FlowSerializer(many=True)


_envelopes: dict[str, type[serializers.Serializer]] = {}


def envelope(
    name: str,
    data: type[serializers.Serializer] | None = None,
    meta: type[serializers.Serializer] | None = None,
    *,
    many: bool = False,
    doc: str = "",
) -> type[serializers.Serializer]:
    """The success body `{"status", "data"?, "meta"?}` as the component `name`;
    `many` makes `data` a list.

    Cached by name: drf-spectacular tells components apart by class, so one
    name must always map to one class.
    """
    if name not in _envelopes:
        attrs: dict[str, Any] = {
            "status": serializers.IntegerField(help_text="The HTTP status, repeated."),
            "__doc__": doc or None,
            "__module__": __name__,
        }
        if data is not None:
            attrs["data"] = data(many=many)
        if meta is not None:
            attrs["meta"] = meta()
        _envelopes[name] = type(f"{name}Serializer", (serializers.Serializer,), attrs)
    return _envelopes[name]


AuthenticatedResponse = envelope(
    "AuthenticatedResponse", AuthenticatedDataSerializer, AuthMetaSerializer
)
NotAuthenticatedResponse = envelope(
    "NotAuthenticatedResponse",
    FlowsDataSerializer,
    NotAuthenticatedMetaSerializer,
    doc="401 or 410: not signed in; `data.flows` lists what the client can do next.",
)
ReauthenticationRequiredResponse = envelope(
    "ReauthenticationRequiredResponse",
    ReauthenticationDataSerializer,
    ReauthenticationMetaSerializer,
    doc="401 (allauth's ReauthenticationRequired): signed in, but longer ago than "
    "ACCOUNT_REAUTHENTICATION_TIMEOUT; `data.flows` lists the ways to step up "
    "(`reauthenticate`: POST /auth/reauthenticate; `wallet_reauthenticate`, Signet's: "
    "sign a wallet challenge with process `reauthenticate`), then retry.",
)
EmptyResponse = envelope("EmptyResponse", doc='`{"status": 200}`')


def authenticated(description: str = "Signed in: the user and how they authenticated.") -> Any:
    return OpenApiResponse(AuthenticatedResponse, description)


def not_authenticated(description: str) -> Any:
    return OpenApiResponse(NotAuthenticatedResponse, description)


def authentication_or_reauthentication(description: str) -> Any:
    """A 401 that is either: not signed in, or a sensitive change needing step-up."""
    proxy = PolymorphicProxySerializer(
        component_name="AuthenticationOrReauthentication",
        serializers=[NotAuthenticatedResponse, ReauthenticationRequiredResponse],
        resource_type_field_name=None,
    )
    return OpenApiResponse(proxy, description)


REAUTHENTICATION_401 = (
    "Not signed in (`meta.is_authenticated: false`, the flows to sign in), or signed in "
    "longer ago than ACCOUNT_REAUTHENTICATION_TIMEOUT (`meta.is_authenticated: true`, "
    "the user, and the flows to reauthenticate with)."
)


def error_response(status: int, codes: Sequence[str]) -> Any:
    listed = ", ".join(f"`{c}`" for c in dict.fromkeys(str(c) for c in codes))
    return OpenApiResponse(
        ErrorResponseSerializer, f"{HTTPStatus(status).phrase}. Error codes: {listed}."
    )


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    description="Seconds until the limit resets.",
    response=[429],
)

# --- Operations -----------------------------------------------------------------


@dataclass(frozen=True)
class ApiOperation:
    """One method of one view: what it takes and what only it answers.

    `responses` are the bodies that are not plain errors (200, a 401 with
    flows); `errors` maps a status to the error codes this view raises.
    """

    summary: str
    responses: Mapping[int, Any]
    errors: Mapping[int, Sequence[str]] = field(default_factory=dict)
    request: type[serializers.Serializer] | None = None
    description: str = ""
    tag: str = ""
    parameters: Sequence[OpenApiParameter] = ()
    rate_limited: bool = False
    dependencies: bool = True
    # A sensitive change (accounts.flows.reauthentication): 401 may ask to step up.
    reauthentication: bool = False


def envelope_responses(
    op: ApiOperation, *, client: Client | None, method: str, authenticated_only: bool
) -> dict[int, Any]:
    """Every status `op` can answer with on `client`, each with its body."""
    errors: dict[int, list[str]] = {s: list(c) for s, c in op.errors.items()}

    def add(status: int, *codes: str) -> None:
        errors.setdefault(status, []).extend(codes)

    if op.request is not None:
        add(400, Code.INVALID, Code.REQUIRED)
        add(413, Code.INVALID)
        add(415, Code.UNSUPPORTED_MEDIA_TYPE)
    if client is Client.BROWSER and method in UNSAFE_METHODS:
        add(403, Code.CSRF_FAILED)
    if op.rate_limited:
        add(429, Code.RATE_LIMITED)
    if op.dependencies:
        add(503, Code.SERVICE_UNAVAILABLE)
    out: dict[int, Any] = {s: error_response(s, codes) for s, codes in errors.items()}
    if authenticated_only:
        out[401] = not_authenticated("Not signed in; `data.flows` lists the ways in.")
    if client is Client.APP:
        out[410] = not_authenticated(
            "The session token is no longer valid (rotated, logged out or ended): drop it."
        )
    out.update(op.responses)
    if op.reauthentication:
        out[401] = authentication_or_reauthentication(REAUTHENTICATION_401)
    return dict(sorted(out.items()))


class HeadlessAutoSchema(AutoSchema):
    """Renders the view's `api_operations` for the client its path names."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        # `self.method` is switched while documenting bodies; remember the real one.
        self.documented_method = method.lower()
        return super().get_operation(path, path_regex, path_prefix, method, registry)

    def _op(self) -> ApiOperation | None:
        return getattr(self.view, "api_operations", {}).get(self.documented_method)

    def _authenticated_only(self) -> bool:
        from accounts.api.base import AuthenticatedApi

        return isinstance(self.view, AuthenticatedApi)

    def is_excluded(self) -> bool:
        if self._op() is None:
            warn(f"{self.view.__class__.__name__}.{self.method.lower()} is not documented")
            return True
        return False

    def get_operation_id(self) -> str:
        client = client_for_path(self.path)
        tail = self.path.split("/v1/", 1)[-1].strip("/").replace("/", "_")
        return f"{client}_{tail}_{self.method.lower()}"

    def get_tags(self) -> list[str]:
        return [self._op().tag] if self._op().tag else super().get_tags()

    def get_summary(self) -> str | None:
        return self._op().summary

    def get_description(self) -> str:
        return self._op().description

    def get_override_parameters(self) -> list:
        op = self._op()
        return [*op.parameters, *([RETRY_AFTER] if op.rate_limited else [])]

    def get_request_serializer(self) -> Any:
        return self._op().request

    def get_response_serializers(self) -> Any:
        return envelope_responses(
            self._op(),
            client=client_for_path(self.path),
            method=self.method,
            authenticated_only=self._authenticated_only(),
        )

    def _get_request_body(self, direction: str = "request") -> Any:
        # drf-spectacular documents bodies on POST/PUT/PATCH only, and PATCH as
        # partial. The views read DELETE bodies too, and never validate
        # partially: document both as the view parses them.
        method = self.method
        if method in ("PATCH", "DELETE"):
            self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method


def document(target: str, **operations: ApiOperation) -> type[OpenApiViewExtension]:
    """Describe the view at dotted path `target`, one ApiOperation per method."""

    def view_replacement(self: OpenApiViewExtension) -> type:
        attrs = {"schema": HeadlessAutoSchema(), "api_operations": operations}
        return type(self.target.__name__, (self.target,), attrs)

    name = target.rsplit(".", 1)[-1] + "Extension"
    attrs = {"target_class": target, "view_replacement": view_replacement}
    return type(name, (OpenApiViewExtension,), attrs)


# --- Security schemes -------------------------------------------------------------


def _security_schemes() -> dict[str, dict]:
    return {
        "sessionToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "App client: the token from `meta.session_token`.",
        },
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "App client: the same session token as `Authorization: Bearer`.",
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "Browser client: Django's session cookie.",
        },
        "csrfToken": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": f"Browser client: the `{settings.CSRF_COOKIE_NAME}` cookie's value, "
            "on every unsafe method (login and signup included).",
        },
    }


def _register(auto_schema: AutoSchema, requirements: list[dict]) -> list[dict]:
    schemes = _security_schemes()
    for name in {name for requirement in requirements for name in requirement}:
        auto_schema.registry.register_on_missing(
            ResolvedComponent(
                name=name,
                type=ResolvedComponent.SECURITY_SCHEMA,
                object=ComponentIdentity(name),
                schema=schemes[name],
            )
        )
    return requirements


class HeadlessAuthenticationScheme(OpenApiAuthenticationExtension):
    """Security per client path; sign-in endpoints also accept anonymous calls."""

    target_class = "accounts.drf_auth.HeadlessAuthentication"
    name: list[str] = []  # schemes are registered by _register, shared with the class below

    def get_security_definition(self, auto_schema: AutoSchema) -> list:
        return []

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict]:
        from accounts.api.base import AuthenticatedApi

        if client_for_path(auto_schema.path) is Client.APP:
            signed_in, anonymous = [{"sessionToken": []}, {"bearerToken": []}], [{}]
        elif auto_schema.method in UNSAFE_METHODS:
            signed_in, anonymous = [{"sessionCookie": [], "csrfToken": []}], [{"csrfToken": []}]
        else:
            signed_in, anonymous = [{"sessionCookie": []}], [{}]
        if not isinstance(auto_schema.view, AuthenticatedApi):
            signed_in += anonymous
        return _register(auto_schema, signed_in)


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """The project's own DRF views behind `SessionTokenAuthentication`."""

    target_class = "accounts.drf_auth.SessionTokenAuthentication"
    name: list[str] = []

    def get_security_definition(self, auto_schema: AutoSchema) -> list:
        return []

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict]:
        return _register(auto_schema, [{"sessionToken": []}, {"bearerToken": []}])
