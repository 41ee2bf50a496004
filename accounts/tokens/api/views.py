"""POST /_allauth/app/v1/tokens/refresh and GET /.well-known/jwks.json."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api import responses
from accounts.api.base import HeadlessApi
from accounts.errors import ApiError, Code, error_response
from accounts.tokens import flows, keys
from accounts.tokens.api.inputs import RefreshTokenInput


class RefreshTokenApi(HeadlessApi):
    def post(self, request, **kwargs):
        if not flows.enabled():  # allauth's session strategy has no such path
            raise ApiError(404, Code.NOT_FOUND, "Not found.")
        token = self.input(RefreshTokenInput)["refresh_token"]
        return responses.respond(request, flows.token_refresh(refresh_token=token))


@csrf_exempt  # public and read-only: a POST is a 405, not a CSRF failure
def jwks(request: HttpRequest) -> JsonResponse:
    """The public keys that verify access tokens, for other services."""
    if request.method not in ("GET", "HEAD"):
        response = error_response(405, Code.METHOD_NOT_ALLOWED, "Method not allowed.")
        response["Allow"] = "GET, HEAD"
        return response
    if not flows.enabled():
        return JsonResponse({"keys": []})
    response = JsonResponse(keys.jwks())
    # Short: a rotation's new key must reach verifiers before it signs much.
    response["Cache-Control"] = "public, max-age=300"
    return response
