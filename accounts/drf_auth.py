"""DRF authentication by Signet session token, for the project's own APIs.

    X-Session-Token: <token>
    Authorization: Bearer <token>

The token is the one `/_allauth/app/v1/` hands out in `meta.session_token`.
A token that names no live session (rotated, logged out, revoked) answers
410 `invalid_session_token`, as the headless API does: drop it, sign in again.
"""

from __future__ import annotations

from types import SimpleNamespace

from rest_framework.authentication import BaseAuthentication

from accounts.backends import get_user
from accounts.clients import token_from_headers
from accounts.errors import ApiError, Code
from accounts.sessions import session_lookup


class SessionTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        token = token_from_headers(request)
        if not token:
            return None
        session = session_lookup(token)
        # get_user() also checks the password hash stored in the session.
        user = get_user(SimpleNamespace(session=session)) if session is not None else None
        if user is None or not user.is_authenticated:
            raise ApiError(410, Code.INVALID_SESSION_TOKEN, "The session token is no longer valid.")
        return (user, session)

    def authenticate_header(self, request) -> str:
        return self.keyword


class HeadlessAuthentication(BaseAuthentication):
    """Inside /_allauth/ the middleware already resolved the session."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if user is not None and user.is_authenticated:
            return (user, None)
        return None
