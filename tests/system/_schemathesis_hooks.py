"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.system._schemathesis_hooks):
sign the fuzzer in, as each client would, on the operations that need a user.

- app paths get `X-Session-Token`;
- browser paths get the `sessionid` and `csrftoken` cookies plus `X-CSRFToken`,
  exactly what a single-page app sends.

Generated cases may end the session (logout, `DELETE /auth/sessions`): those
get a session of their own, and every other case first checks the shared one
with a cheap `GET /auth/session`, signing in again when it is gone.

The server and the user come from SIGNET_FUZZ_ORIGIN, SIGNET_FUZZ_EMAIL and
SIGNET_FUZZ_PASSWORD.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import requests
import schemathesis

TIMEOUT = 10
# Operations a signed-out client may call are fuzzed signed out: that is where
# signup, login, reset and wallet sign-in do their work. The rest need a user.
_SIGNED_IN_PATHS = ("/account/", "/auth/sessions", "/auth/reauthenticate", "/auth/session")
_ENDING_PATHS = ("/auth/session", "/auth/sessions")


@dataclass
class Credentials:
    token: str = ""
    sessionid: str = ""
    csrftoken: str = ""


def _api(kind: str, path: str) -> str:
    return f"{os.environ['SIGNET_FUZZ_ORIGIN']}/_allauth/{kind}/v1{path}"


def _body() -> dict[str, str]:
    return {
        "email": os.environ["SIGNET_FUZZ_EMAIL"],
        "password": os.environ["SIGNET_FUZZ_PASSWORD"],
    }


def _app_login() -> Credentials:
    response = requests.post(_api("app", "/auth/login"), json=_body(), timeout=TIMEOUT)
    response.raise_for_status()
    return Credentials(token=response.json()["meta"]["session_token"])


def _browser_login() -> Credentials:
    http = requests.Session()
    http.get(_api("browser", "/config"), timeout=TIMEOUT).raise_for_status()
    headers = {"X-CSRFToken": http.cookies["csrftoken"]}
    response = http.post(
        _api("browser", "/auth/login"), json=_body(), headers=headers, timeout=TIMEOUT
    )
    response.raise_for_status()
    return Credentials(sessionid=http.cookies["sessionid"], csrftoken=http.cookies["csrftoken"])


def _alive(kind: str, credentials: Credentials) -> bool:
    if kind == "app":
        headers, cookies = {"X-Session-Token": credentials.token}, {}
    else:
        headers, cookies = {}, {"sessionid": credentials.sessionid}
    response = requests.get(
        _api(kind, "/auth/session"), headers=headers, cookies=cookies, timeout=TIMEOUT
    )
    return response.status_code == 200


_lock = threading.Lock()
_cache: dict[str, Credentials] = {}


def _anonymous_csrf() -> Credentials:
    with _lock:
        if "anonymous" not in _cache:
            response = requests.get(_api("browser", "/config"), timeout=TIMEOUT)
            _cache["anonymous"] = Credentials(csrftoken=response.cookies["csrftoken"])
        return _cache["anonymous"]


def _needs_user(path: str) -> bool:
    return any(part in path for part in _SIGNED_IN_PATHS)


@schemathesis.auth(refresh_interval=None)
class SignetAuth:
    def get(self, case, context) -> tuple[str, Credentials] | None:
        path = context.operation.path
        kind = "app" if path.startswith("/_allauth/app/") else "browser"
        if not _needs_user(path):
            # Signed out; a browser still holds the CSRF cookie every SPA fetches first.
            return None if kind == "app" else (kind, _anonymous_csrf())
        login = _app_login if kind == "app" else _browser_login
        if context.operation.method.upper() == "DELETE" and path.endswith(_ENDING_PATHS):
            # These end the session they are sent with: give each its own.
            return kind, login()
        with _lock:
            credentials = _cache.get(kind)
            if credentials is None or not _alive(kind, credentials):
                credentials = _cache[kind] = login()
        return kind, credentials

    def set(self, case, data: tuple[str, Credentials], context) -> None:
        kind, credentials = data
        case.headers = dict(case.headers or {})
        if kind == "app":
            case.headers["X-Session-Token"] = credentials.token
            return
        cookies = {"csrftoken": credentials.csrftoken}
        if credentials.sessionid:
            cookies["sessionid"] = credentials.sessionid
        case.cookies = {**(case.cookies or {}), **cookies}
        case.headers["X-CSRFToken"] = credentials.csrftoken
