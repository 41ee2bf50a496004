"""The two headless clients, told apart by the URL prefix.

- `app`: no cookies, no CSRF; the session token travels in `X-Session-Token`
  (or `Authorization: Bearer <token>`).
- `browser`: Django's session cookie plus CSRF, for an SPA on an allowed origin.
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest

API_PREFIX = "/_allauth/"


class Client(StrEnum):
    APP = "app"
    BROWSER = "browser"


def client_for_path(path: str) -> Client | None:
    if not path.startswith(API_PREFIX):
        return None
    name = path[len(API_PREFIX) :].split("/", 1)[0]
    return Client(name) if name in Client._value2member_map_ else None


def request_client(request: HttpRequest) -> Client | None:
    return getattr(request, "signet_client", None)


def token_from_headers(request: HttpRequest) -> str | None:
    """`X-Session-Token: <token>`, or `Authorization: Bearer <token>`."""
    # META, not request.headers: that would build a dict of every header.
    token = request.META.get("HTTP_X_SESSION_TOKEN")
    if token:
        return token.strip()
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
