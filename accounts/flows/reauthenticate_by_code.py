"""Reauthentication by code (allauth's `reauthenticate_by_code` flow).

A signed-in user steps up by a code mailed to one of their verified
addresses: POST /auth/reauthenticate/code/request {email} (one of the
flow's `recipients`), then /confirm {code}, which adds allauth's method
record `{"method": "code", "email", "reauthenticated": true}`, so
accounts.flows.reauthentication.require_reauthentication passes; /resend
mails a new code within allauth's resend quota.

Offered (in the flows of a 401) while ACCOUNT_LOGIN_BY_CODE_ENABLED is on
and the user owns an address: where a mailbox does not sign in, it does not
stand in for a password at step-up either (allauth offers it whenever `code`
is one of ACCOUNT_REAUTHENTICATION_METHODS, by default). Timeout, attempts
and resends are login by code's, as in allauth. The state lives beside the
sign-in's pending stage (sessions.REAUTHENTICATION_CODE), for this user only.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from accounts import codes, emails
from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.flows.login_by_code import (
    METHOD,
    incorrect_code,
    not_pending,
    resend_quota,
    send_code,
)
from accounts.flows.signin import add_method, method_record
from accounts.models import EmailAddress
from accounts.ratelimit import Action, consume, consume_all
from accounts.signals import Event, Outcome, emit

FLOW = "reauthenticate_by_code"
PURPOSE = codes.Purpose.REAUTHENTICATE


def enabled() -> bool:
    return settings.ACCOUNT_LOGIN_BY_CODE_ENABLED


def recipients(user) -> list[dict]:
    """The addresses a code can go to: the user's verified ones (allauth's order)."""
    addresses = EmailAddress.objects.filter(user_id=user.pk, verified=True).order_by("email")
    return [{"email": email} for email in addresses.values_list("email", flat=True)]


def pending(request: HttpRequest) -> dict | None:
    state = request.session.get(skeys.REAUTHENTICATION_CODE)
    user = getattr(request, "user", None)
    if (
        not enabled()
        or not isinstance(state, dict)
        or user is None
        or state.get("user") != user.pk
        or time.time() - state.get("at", 0) > settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT
    ):
        return None
    return state


def reauthentication_flow(request: HttpRequest, user) -> list[dict]:
    """The flow entry a 401 lists for a signed-in user (accounts.api.responses)."""
    if not enabled():
        return []
    to = recipients(user)
    if not to:
        return []
    flow = {"id": FLOW, "recipients": to}
    if pending(request) is not None:
        flow["is_pending"] = True
    return [flow]


def _drop(request: HttpRequest, state: dict | None) -> None:
    if state:
        codes.discard(PURPOSE, state.get("code", ""))
    request.session.pop(skeys.REAUTHENTICATION_CODE, None)


def _issue() -> tuple[str, str]:
    return codes.issue(PURPOSE, timeout=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT)


def reauthentication_code_request(request: HttpRequest, *, email: str) -> None:
    """Mail a code to one of the user's verified addresses (400 `unknown_email`
    for any other); allauth's `reauthenticate` and `request_login_code` rates."""
    if not enabled():
        raise ApiError(403, Code.PERMISSION_DENIED, "Reauthentication by code is not enabled.")
    user = request.user
    email = emails.normalized(email)
    address = emails.owner_address(email)
    if address is None or address.user_id != user.pk:
        message = "This is not one of your verified addresses."
        raise ApiError(400, Code.UNKNOWN_EMAIL, message, "email")
    consume_all(
        request, [(Action.REAUTHENTICATE, None), (Action.REQUEST_LOGIN_CODE, email)], user=user
    )
    _drop(request, pending(request))
    code_id, code = _issue()
    try:
        send_code(address.email, code, reauthentication=True)
    except ApiError:
        codes.discard(PURPOSE, code_id)
        raise
    request.session[skeys.REAUTHENTICATION_CODE] = {
        "user": user.pk,
        "email": address.email,
        "code": code_id,
        "at": time.time(),
        "resends": 0,
    }


def reauthentication_code_resend(request: HttpRequest) -> None:
    state = pending(request)
    if state is None or state.get("resends", 0) >= resend_quota():
        raise not_pending("No reauthentication code can be sent again.")
    consume(request, Action.REQUEST_LOGIN_CODE, key=state["email"])
    code_id, code = _issue()
    try:
        send_code(state["email"], code, reauthentication=True)
    except ApiError:
        codes.discard(PURPOSE, code_id)
        raise
    codes.discard(PURPOSE, state["code"])
    request.session[skeys.REAUTHENTICATION_CODE] = {
        **state,
        "code": code_id,
        "resends": state["resends"] + 1,
    }


def reauthentication_code_confirm(request: HttpRequest, *, code: str) -> None:
    """Record the reauthentication; 400 `incorrect_code` while attempts
    remain, 409 once the flow is gone."""
    state = pending(request)
    if state is None:
        raise not_pending("No reauthentication by code is pending.")
    user = request.user
    max_attempts = settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS
    result = codes.check(PURPOSE, state.get("code", ""), code, max_attempts=max_attempts)
    if result is codes.Result.GONE:
        _drop(request, state)
        raise not_pending("No reauthentication by code is pending.")
    if result.wrong:
        emit(request, Event.REAUTHENTICATED, user=user, outcome=Outcome.FAILURE, method=METHOD)
        if result is codes.Result.WRONG_LAST:
            _drop(request, state)
        raise incorrect_code()
    _drop(request, state)
    address = emails.owner_address(state["email"])
    if address is None or address.user_id != user.pk:
        raise not_pending("No reauthentication by code is pending.")
    add_method(request, method_record(METHOD, email=address.email, reauthenticated=True))
    emit(request, Event.REAUTHENTICATED, user=user, method=METHOD)
