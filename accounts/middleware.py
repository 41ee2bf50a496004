"""Per-client session handling for the headless API.

For the `app` client the cookie session is swapped for the one named by the
session token (a token that names no live session answers 410 right away,
as allauth does), and swapped back before SessionMiddleware writes cookies,
so the app client never receives one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from accounts import sessions as skeys
from accounts.api.responses import unauthenticated_json
from accounts.backends import get_user
from accounts.clients import Client, client_for_path, token_from_headers
from accounts.sessions import SessionStore, session_lookup

# Given the app client's request, each returns the user a JWT access token
# names, or None (accounts.tokens registers one under SIGNET_TOKEN_STRATEGY=jwt).
AccessTokenUser = Callable[[HttpRequest], object | None]
access_token_users: list[AccessTokenUser] = []


def touch_last_seen(session) -> None:
    """Refresh the session list's "last seen" at most every few minutes."""
    if SESSION_KEY not in session:
        return
    now = time.time()
    if now - session.get(skeys.LAST_SEEN_AT, 0) > skeys.LAST_SEEN_RESOLUTION:
        session[skeys.LAST_SEEN_AT] = now


class HeadlessClientMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        client = client_for_path(request.path_info)
        request.signet_client = client
        if client is not Client.APP:
            if client is Client.BROWSER:
                # Django's lazy user, with the user entry the session read fetched.
                request.user = SimpleLazyObject(lambda: get_user(request))
                touch_last_seen(request.session)
            return self.get_response(request)

        token = token_from_headers(request)
        request.signet_token = token
        cookie_session = request.session
        if token:
            session = session_lookup(token)
            if session is None:
                request.session = SessionStore()
                return unauthenticated_json(request, 410)
        else:
            session = SessionStore()
        request.session = session
        request.user = SimpleLazyObject(lambda: get_user(request))
        if not token:
            for access_token_user in access_token_users:
                user = access_token_user(request)
                if user is not None:
                    request.user = user
                    break
        touch_last_seen(session)
        try:
            response = self.get_response(request)
            # As SessionMiddleware does: after a 5xx the session in memory may
            # disagree with the database (a rolled-back rotation); keep the stored one.
            if response.status_code < 500 and session.modified and not session.is_empty():
                session.save()
        finally:
            request.session = cookie_session
            # login() rotates the CSRF token; the app client has no CSRF cookie.
            request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
        return response
