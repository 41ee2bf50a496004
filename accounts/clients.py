"""The two headless clients, told apart by the URL prefix.

- `app`: no cookies, no CSRF; the session token travels in `X-Session-Token`
  (or `Authorization: Bearer <token>`).
- `browser`: Django's session cookie plus CSRF, for an SPA on an allowed origin.

How the app client's two credentials share the headers, today and once the
JWT token strategy (allauth's `HEADLESS_TOKEN_STRATEGY` with JWTs) exists:

- `X-Session-Token: <token>` is always a session token, and wins when both
  headers come (allauth looks at it first under both strategies).
- `Authorization: Bearer <value>` is an access token when the value has the
  shape of a JWT (JWS compact form: three base64url parts joined by dots),
  and a session token otherwise. Session tokens are 32 characters of
  [0-9a-z] and never contain a dot, so the shape alone decides, before any
  lookup: a JWT is never looked up as a session (an expired access token
  means "refresh", 401, not "this session is gone", 410), and a session
  token is never parsed as a JWT.

`access_token_from_headers` is where the JWT strategy (accounts.tokens,
`SIGNET_TOKEN_STRATEGY=jwt`) reads its token; under the session strategy a
JWT-shaped Bearer value authenticates nobody (401).
"""

from __future__ import annotations

from enum import StrEnum

from django.http import HttpRequest

from config.patterns import request_pattern

API_PREFIX = "/_allauth/"

# JWS compact serialization: header.payload.signature, each base64url.
_JWT_SHAPE = request_pattern("clients.jwt_shape", r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


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


def is_jwt_shaped(value: str) -> bool:
    return _JWT_SHAPE.fullmatch(value) is not None


def _bearer(request: HttpRequest) -> str | None:
    # META, not request.headers: that would build a dict of every header.
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = auth.partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def token_from_headers(request: HttpRequest) -> str | None:
    """The session token: `X-Session-Token`, or a Bearer value that is not a JWT."""
    token = request.META.get("HTTP_X_SESSION_TOKEN")
    if token:
        return token.strip()
    bearer = _bearer(request)
    return bearer if bearer is not None and not is_jwt_shaped(bearer) else None


def access_token_from_headers(request: HttpRequest) -> str | None:
    """A JWT access token from `Authorization: Bearer` (see above)."""
    bearer = _bearer(request)
    return bearer if bearer is not None and is_jwt_shaped(bearer) else None
