"""Builds every success body: `{"status", "data", "meta"}`.

The authentication response (200 with user + methods, or 401/410 with the
flows a client can take next) is the heart of the allauth headless contract.
Other apps extend it through hooks instead of being imported here:
`flow_providers` (e.g. wallets adds `wallet_login`),
`reauthentication_flow_providers` (e.g. wallets adds `wallet_reauthenticate`)
and, for the User object, `accounts.users.user_part` (e.g. wallets adds the
user's wallets).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.utils.http import http_date
from rest_framework.response import Response

from accounts import sessions as skeys
from accounts import usercache
from accounts.clients import Client, request_client
from accounts.flows import password_reset_by_code, reauthenticate_by_code
from accounts.users import build_user_payload

FlowProvider = Callable[[HttpRequest], list[dict]]
ReauthenticationFlows = Callable[[Any], list[dict]]
ConfigExtension = Callable[[HttpRequest], dict]

flow_providers: list[FlowProvider] = []
# The ways a signed-in user can step up (e.g. wallets adds `wallet_reauthenticate`).
reauthentication_flow_providers: list[ReauthenticationFlows] = []
# Sections of /config beside `account` (e.g. wallets adds `wallet`, MFA `mfa`).
config_extensions: list[ConfigExtension] = []
# Called with (request, meta) when the app client is handed a new session
# token; each returns extra meta (accounts.tokens: access and refresh tokens).
TokenMetaProvider = Callable[[HttpRequest, dict], dict]
token_meta_providers: list[TokenMetaProvider] = []


# What django.utils.cache.add_never_cache_headers() writes on a fresh response.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


@lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    return http_date(second)


def never_cache(response: HttpResponse) -> None:
    """add_never_cache_headers() for the API's responses, which carry no caching
    header yet: the same two headers, without parsing and re-joining them."""
    response.headers["Expires"] = _http_date(int(time.time()))
    response.headers["Cache-Control"] = NEVER_CACHE


class Flow(StrEnum):
    LOGIN = "login"
    LOGIN_BY_CODE = "login_by_code"
    SIGNUP = "signup"
    VERIFY_EMAIL = "verify_email"
    REAUTHENTICATE = "reauthenticate"


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def config_data(request: HttpRequest) -> dict:
    """/config: the account section, then every extension's."""
    data = {
        "account": {
            "login_methods": ["email"],
            "is_open_for_signup": settings.ACCOUNT_SIGNUP_OPEN,
            "email_verification": settings.ACCOUNT_EMAIL_VERIFICATION,
            "email_verification_by_code_enabled": (
                settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED
            ),
            "login_by_code_enabled": settings.ACCOUNT_LOGIN_BY_CODE_ENABLED,
            "password_reset_by_code_enabled": settings.ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED,
            "authentication_method": "email",
        },
        "usersessions": {"track_activity": True},
    }
    for extend in config_extensions:
        data.update(extend(request))
    return data


def email_addresses_data(addresses: Iterable) -> list[dict]:
    return [{"email": a.email, "primary": a.primary, "verified": a.verified} for a in addresses]


def sessions_data(sessions: Iterable, *, current: int | None) -> list[dict]:
    """allauth's usersessions list; `current` is the public id of this session."""
    return [
        {
            "id": s.public_id,
            "created_at": _ts(s.created_at),
            "last_seen_at": _ts(s.last_seen_at),
            "ip": s.ip,
            "user_agent": s.user_agent,
            "is_current": s.public_id == current,
        }
        for s in sessions
    ]


def email_verification_data(address) -> dict:
    """GET /auth/email/verify: the address a key verifies, and its user."""
    return {"email": address.email, "user": serialize_user(address.user)}


def password_reset_data(user) -> dict:
    """GET /auth/password/reset: the user a key resets."""
    return {"user": serialize_user(user)}


def serialize_user(user) -> dict:
    """The User object of the contract, from the user cache (accounts.usercache)
    unless the instance has its related rows in hand already (prefetched)."""
    cached = usercache.cached_payload(user)  # loaded with the user, still current
    if cached is None and not getattr(user, "_prefetched_objects_cache", None):
        # E.g. the user a sign-in just authenticated: the cache entry that
        # the session reads will need anyway, filled now if it is missing.
        cached = usercache.cached_payload(usercache.cached_user(user.pk))
    return cached if cached is not None else build_user_payload(user)


def pending_flow(request: HttpRequest) -> str | None:
    pending = request.session.get(skeys.PENDING)
    return pending.get("flow") if isinstance(pending, dict) else None


def flows(request: HttpRequest, user) -> list[dict]:
    # Codes by email (allauth's places in the list): `reauthenticate_by_code`
    # after `reauthenticate`, `login_by_code` after `login`, and
    # `password_reset_by_code` last, signed in or not.
    if user is not None and user.is_authenticated:
        out = [{"id": Flow.REAUTHENTICATE}] if user.has_usable_password() else []
        out.extend(reauthenticate_by_code.reauthentication_flow(request, user))
        for provider in reauthentication_flow_providers:
            out.extend(provider(user))
        return out + password_reset_by_code.flow_entry(request)
    out = [{"id": Flow.LOGIN}]
    if settings.ACCOUNT_LOGIN_BY_CODE_ENABLED:
        out.append({"id": Flow.LOGIN_BY_CODE})
    if settings.ACCOUNT_SIGNUP_OPEN:
        out.append({"id": Flow.SIGNUP})
    for provider in flow_providers:
        out.extend(provider(request))
    stage = pending_flow(request)
    if stage:
        # Marked where it is listed already (login_by_code), else added.
        entry = next((flow for flow in out if flow["id"] == stage), None)
        if entry is None:
            entry = {"id": stage}
            out.append(entry)
        entry["is_pending"] = True
        types = request.session[skeys.PENDING].get("types")
        if types:
            entry["types"] = types  # mfa_authenticate: the factors that can complete it
    return out + password_reset_by_code.flow_entry(request)


def session_meta(request: HttpRequest, meta: dict | None = None) -> dict | None:
    """Add `session_token` when the app client's session is new or rotated.

    The session is saved here (not later in the middleware) because the
    token is the session key, which only exists once the session is saved.
    """
    if request_client(request) is not Client.APP:
        return meta
    session = request.session
    if session.modified and not session.is_empty():
        session.save()
        session.modified = False
        if session.session_key != getattr(request, "signet_token", None):
            meta = {**(meta or {}), "session_token": session.session_key}
            for provider in token_meta_providers:
                meta.update(provider(request, meta))
    return meta


def body(request: HttpRequest, status: int, data: Any = None, meta: dict | None = None) -> dict:
    out: dict[str, Any] = {"status": int(status)}
    if data is not None:
        out["data"] = data
    meta = session_meta(request, meta)
    if meta is not None:
        out["meta"] = meta
    if request_client(request) is Client.BROWSER:
        get_token(request)  # keep the csrftoken cookie available to the SPA
    return out


def respond(
    request: HttpRequest, data: Any = None, *, status: int = HTTPStatus.OK, meta=None
) -> Response:
    response = Response(body(request, status, data, meta), status=status)
    never_cache(response)
    return response


def auth_body(request: HttpRequest, user=None, status: int | None = None) -> dict:
    authenticated = bool(user is not None and user.is_authenticated)
    data: dict[str, Any] = {}
    if authenticated:
        data["user"] = serialize_user(user)
        data["methods"] = request.session.get(skeys.METHODS, [])
    status = status or (HTTPStatus.OK if authenticated else HTTPStatus.UNAUTHORIZED)
    if status != HTTPStatus.OK:
        data["flows"] = flows(request, user)
    return body(request, status, data, {"is_authenticated": authenticated})


def auth_response(request: HttpRequest, *, status: int | None = None) -> Response:
    """200 with the user when authenticated, else 401 with the next flows.

    Reads the user off the Django request: a flow may just have logged in or
    out, which DRF's cached `request.user` would not show.
    """
    request = getattr(request, "_request", request)
    payload = auth_body(request, request.user, status)
    response = Response(payload, status=payload["status"])
    never_cache(response)
    return response


def unauthenticated_json(request: HttpRequest, status: int) -> JsonResponse:
    """For middleware, outside DRF: e.g. 410 for a stale session token."""
    response = JsonResponse(auth_body(request, None, status), status=status)
    never_cache(response)
    return response
