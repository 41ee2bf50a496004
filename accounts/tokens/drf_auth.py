"""The access token as a credential: for the headless API (a middleware hook)
and for the project's own DRF views (one authentication class).

Verifying reads nothing but the token and the public keys in memory. The user
is a lazy object that knows its id and the token's claims; only a view that
reads more of the user (email, say) loads it, from the user cache.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from rest_framework.authentication import BaseAuthentication

from accounts.backends import CachedModelBackend
from accounts.clients import access_token_from_headers
from accounts.errors import ApiError, Code
from accounts.tokens import flows


class TokenUser(SimpleLazyObject):
    """request.user for an access token: `pk`, `is_authenticated` and
    `token_claims` need no lookup; anything else loads the user."""

    def __init__(self, claims: dict) -> None:
        def load():
            user = CachedModelBackend().get_user(claims["sub"])
            if user is None:  # deleted or deactivated since the token was issued
                raise ApiError(401, Code.NOT_AUTHENTICATED, "The access token's user is gone.")
            return user

        super().__init__(load)
        self.__dict__["token_claims"] = claims

    @property
    def pk(self) -> int:
        return int(self.__dict__["token_claims"]["sub"])

    id = pk
    is_authenticated = True
    is_anonymous = False

    def __bool__(self) -> bool:  # IsAuthenticated asks `request.user and ...`
        return True


def access_token_user(request: HttpRequest) -> TokenUser | None:
    """The user a valid `Authorization: Bearer <JWT>` names (middleware hook)."""
    if not flows.enabled():
        return None
    token = access_token_from_headers(request)
    claims = flows.access_token_decode(token) if token else None
    return TokenUser(claims) if claims is not None else None


class AccessTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access token>`; a JWT-shaped value that does not
    verify is 401 (refresh it), never looked up as a session token."""

    keyword = "Bearer"

    def authenticate(self, request):
        token = access_token_from_headers(request)
        if token is None or not flows.enabled():
            return None
        claims = flows.access_token_decode(token)
        if claims is None:
            raise ApiError(401, Code.NOT_AUTHENTICATED, "The access token is invalid or expired.")
        return (TokenUser(claims), claims)

    def authenticate_header(self, request) -> str:
        return self.keyword
