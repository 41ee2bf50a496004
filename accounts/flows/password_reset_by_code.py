"""Password reset by code (allauth's `password_reset_by_code` flow,
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED): the code takes the link's place.

POST /auth/password/request {email} mails a code and starts the flow in the
session (401 with the flow pending, as allauth answers); GET
/auth/password/reset with the code in `X-Password-Reset-Key` confirms it
(200 with the user); POST /auth/password/reset {key: code, password} sets
the password. Without a pending flow both answer 409.

The rules of the link flow hold (accounts.flows.password_reset): only the
owner of an address receives a code, for the owner's account; an unknown,
only claimed or inactive owner's address is mailed the "no account here"
note instead, and answers the same. A code is issued in every case (the
second kind never mailed), so the attempts run out alike: 400
`incorrect_code` while ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS remain,
then 409.

A right code is spent (accounts.codes); the flow then stays confirmed for
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT, as allauth's does, so the POST that
follows the GET (or a POST whose password was refused) takes the same code
again. What proves it is a keyed digest of the code in the session, never
the code; a different key ends the confirmed flow.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import codes, mail
from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.flows.login_by_code import owned_address, owner
from accounts.models import User

FLOW = "password_reset_by_code"
PURPOSE = codes.Purpose.PASSWORD_RESET
_SALT = "signet.password-reset-code"


def enabled() -> bool:
    return settings.ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED


def _not_pending() -> ApiError:
    return ApiError(409, Code.CONFLICT, "No password reset by code is pending.")


def _incorrect() -> ApiError:
    return ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", "key")


def _digest(state: dict, code: str) -> str:
    return salted_hmac(_SALT, f"{state['code']}:{codes.normalize(code)}").hexdigest()


def pending(request: HttpRequest) -> dict | None:
    state = request.session.get(skeys.PASSWORD_RESET_CODE)
    timeout = settings.ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT
    if not enabled() or not isinstance(state, dict) or time.time() - state.get("at", 0) > timeout:
        return None
    return state


def flow_entry(request: HttpRequest) -> list[dict]:
    """The flow entry every 401 lists while the setting is on (allauth's);
    `is_pending` only when it is (allauth writes `false` otherwise, which
    its own spec refuses: absent means the same to a client)."""
    if not enabled():
        return []
    return [{"id": FLOW, "is_pending": True} if pending(request) else {"id": FLOW}]


def _drop(request: HttpRequest) -> None:
    state = request.session.pop(skeys.PASSWORD_RESET_CODE, None)
    if isinstance(state, dict):
        codes.discard(PURPOSE, state.get("code", ""))


def password_reset_code_request(request: HttpRequest, *, email: str) -> None:
    """Mail the code (or the note) and start the flow; the caller has
    counted the request (`reset_password`, per address)."""
    address = owned_address(email)
    user = address.user if address else None
    email = address.email if address else email
    _drop(request)
    timeout = settings.ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT
    code_id, code = codes.issue(PURPOSE, timeout=timeout)
    try:
        if user is None:
            mail.send(mail.Template.PASSWORD_RESET_UNKNOWN, email, {})
        else:
            context = {"code": code, "minutes": max(1, math.ceil(timeout / 60)), "user": user}
            mail.send(mail.Template.PASSWORD_RESET_CODE, email, context)
    except ApiError:
        codes.discard(PURPOSE, code_id)
        raise
    request.session[skeys.PASSWORD_RESET_CODE] = {
        "user": user.pk if user else None,
        "email": email,
        "code": code_id,
        "at": time.time(),
    }


def password_reset_code_user(request: HttpRequest, *, code: str) -> User:
    """The user whose password the pending flow resets, once `code` is its
    code (spending an attempt until it has been confirmed)."""
    state = pending(request)
    if state is None:
        raise _not_pending()
    if state.get("confirmed"):
        if not constant_time_compare(state["confirmed"], _digest(state, code)):
            _drop(request)
            raise _incorrect()
    else:
        max_attempts = settings.ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS
        result = codes.check(PURPOSE, state.get("code", ""), code, max_attempts=max_attempts)
        if result is codes.Result.GONE:
            _drop(request)
            raise _not_pending()
        if result.wrong:
            if result is codes.Result.WRONG_LAST:
                _drop(request)  # the last attempt: the flow ends, as allauth's
            raise _incorrect()
        state = {**state, "confirmed": _digest(state, code), "at": time.time()}
        request.session[skeys.PASSWORD_RESET_CODE] = state
    user = owner(state["email"])
    if user is None or user.pk != state.get("user"):
        _drop(request)  # changed hands since the code was mailed
        raise _not_pending()
    return user


def password_reset_code_done(request: HttpRequest) -> None:
    _drop(request)
