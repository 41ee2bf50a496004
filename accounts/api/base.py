"""Base classes for every headless endpoint (accounts and wallets).

Views stay thin: validate the input, call one flow, render a response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.api import responses
from accounts.api.inputs import Input
from accounts.clients import Client, request_client
from accounts.drf_auth import HeadlessAuthentication
from accounts.errors import ApiError, Code
from accounts.flows.reauthentication import ReauthenticationRequired, require_reauthentication

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_JSON = JSONRenderer()


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def enforce_csrf(request) -> None:
    """The browser client is cookie-authenticated: every unsafe method,
    login and signup included, needs the CSRF token (login CSRF)."""
    # The token comes in X-CSRFToken. Django's check would first look for a
    # form field in the body, and a malformed multipart body crashes that
    # parse (500): bodies are JSON here, so there is no form to look in.
    request.POST = QueryDict()
    check = _CsrfCheck(lambda r: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise ApiError(403, Code.CSRF_FAILED, f"CSRF check failed: {reason}")


class HeadlessApi(APIView):
    authentication_classes = [HeadlessAuthentication]
    permission_classes: list = []

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        if request_client(request) is Client.BROWSER and request.method in _UNSAFE:
            enforce_csrf(request._request)
        super().initial(request, *args, **kwargs)

    def perform_content_negotiation(self, request, force: bool = False):
        # JSON is the only representation: parsing Accept would only ever pick
        # it or refuse with 406, and allauth's headless API ignores Accept too.
        return _JSON, _JSON.media_type

    def handle_exception(self, exc):
        if isinstance(exc, ReauthenticationRequired):
            # allauth's ReauthenticationRequired: 401, the user, and the flows to step up with.
            return responses.auth_response(self.request, status=401)
        return super().handle_exception(exc)

    def input(self, input_class: type[Input]) -> dict:
        """The validated input: the JSON body, or the headers the input declares."""
        if input_class.headers:
            # An empty header is a missing one (400 `required`), as before inputs read it.
            headers = self.request.headers
            data = {name: headers[h] for name, h in input_class.headers.items() if headers.get(h)}
        else:
            data = self.request.data
            if not isinstance(data, dict):
                raise ApiError(400, Code.INVALID, "The request body must be a JSON object.")
        serializer = input_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class NotAuthenticatedFlows(Exception):
    """Raised afresh each time (`raise NotAuthenticatedFlows` instantiates
    it): one shared instance would gather every raise's frames on its
    `__traceback__` and keep each request it passed through alive."""


class AuthenticatedApi(HeadlessApi):
    """Not signed in: 401 with the flows, as allauth answers."""

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not request.user.is_authenticated:
            raise NotAuthenticatedFlows

    def handle_exception(self, exc):
        if isinstance(exc, NotAuthenticatedFlows):
            return responses.auth_response(self.request)
        return super().handle_exception(exc)


def reauthentication_required(method: Callable) -> Callable:
    """On a view method: the change it makes needs a recent authentication
    (accounts.flows.reauthentication), else 401 with the reauthentication flows."""

    @wraps(method)
    def checked(view, request, *args: Any, **kwargs: Any):
        require_reauthentication(request)
        return method(view, request, *args, **kwargs)

    return checked
