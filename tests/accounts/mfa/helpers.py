"""Codes computed the way an authenticator app does, independently of the
server's implementation (which uses pyotp): RFC 6238 over RFC 4226 with the
standard library, checked against RFC 6238's own test vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from accounts.sessions import METHODS, PENDING, SessionStore
from tests.conftest import PASSWORD

TOTP = "/account/authenticators/totp"
RECOVERY = "/account/authenticators/recovery-codes"
AUTHENTICATORS = "/account/authenticators"
AUTHENTICATE = "/auth/2fa/authenticate"
REAUTHENTICATE = "/auth/2fa/reauthenticate"


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def step_now() -> int:
    return int(time.time() // 30)


def code(secret: str, step: int | None = None) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return hotp(key, step_now() if step is None else step)


def secret_from_url(url: str) -> str:
    return parse_qs(urlsplit(url).query)["secret"][0]


def login(client, user):
    return client.post("/auth/login", {"email": user.email, "password": PASSWORD})


def activate_totp(client) -> str:
    """Set TOTP up as the SPA does (GET the secret, POST a code): the secret."""
    response = client.get(TOTP)
    assert response.status_code == HTTPStatus.NOT_FOUND, response.content
    secret = response.json()["meta"]["secret"]
    response = client.post(TOTP, {"code": code(secret)})
    assert response.status_code == HTTPStatus.OK, response.content
    return secret


def edit_session(client, change) -> None:
    """Change the client's server-side session as time would (age it)."""
    if client.kind == "app":
        session = SessionStore(session_key=client.token)
    else:
        session = client.http.session
    change(session)
    session.save()


def age_authentication(client, seconds: int) -> None:
    def change(session):
        session[METHODS] = [{**m, "at": m["at"] - seconds} for m in session[METHODS]]

    edit_session(client, change)


def age_pending(client, seconds: int) -> None:
    def change(session):
        session[PENDING] = {**session[PENDING], "at": session[PENDING]["at"] - seconds}

    edit_session(client, change)
