"""Login by code (allauth's `login_by_code` flow, ACCOUNT_LOGIN_BY_CODE_ENABLED).

POST /auth/code/request {email} mails a code (accounts.codes) and makes
`login_by_code` the session's pending flow; POST /auth/code/confirm {code}
signs in through accounts.flows.signin.complete_login (so a user with a
second factor stops at `mfa_authenticate`), recorded as allauth's method
`code` with the address; POST /auth/code/resend mails a new code.

No enumeration: an address nobody owns (unknown, only claimed by some
account without verification, or its owner inactive) answers exactly as an
owned one: the same 401 with the same pending flow, and one mail either way
(the owner gets the code, anyone else a short "no account here" note, as a
password reset does). A code is issued in both cases, the second never
mailed, so confirming counts attempts the same way and ends the same way
(409 once ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS are spent).

Only the owner of an address (its verified row, API.md v1.1) is signed in
by a code mailed to it: a claim is never ownership. The owner is looked up
again at confirmation, so a code mailed before the address changed hands
signs nobody in.

The code is in the mail only: Redis keeps its keyed digest under a random
id, the session the id (accounts.codes), and no log line has it.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest

from accounts import codes, emails, mail
from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.flows.signin import complete_login, get_pending, method_record, set_pending
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, Outcome, emit

FLOW = "login_by_code"
METHOD = "code"  # allauth's AuthenticationMethod for a code sent by email
# allauth's LOGIN_BY_CODE_MAX_RESEND_COUNT for ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True.
RESENDS = 2


def resend_quota() -> int:
    return RESENDS if settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND else 0


def _require_enabled() -> None:
    # allauth routes these two only while the setting is on: elsewhere no such endpoint.
    if not settings.ACCOUNT_LOGIN_BY_CODE_ENABLED:
        raise ApiError(404, Code.NOT_FOUND, "No such endpoint.")


def not_pending(what: str = "No login by code is pending.") -> ApiError:
    return ApiError(409, Code.CONFLICT, what)


def incorrect_code(param: str = "code") -> ApiError:
    return ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", param)


def owned_address(email: str) -> EmailAddress | None:
    """The verified row of `email` when its owner is active, else None."""
    address = emails.owner_address(email)
    if address is None or not address.user.is_active:
        return None
    return address


def owner(email: str) -> User | None:
    """The active user who owns `email`, else None."""
    address = owned_address(email)
    return address.user if address else None


def send_code(to: str, code: str, *, reauthentication: bool = False) -> None:
    minutes = max(1, math.ceil(settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT / 60))
    context = {"code": code, "minutes": minutes, "reauthentication": reauthentication}
    mail.send(mail.Template.LOGIN_CODE, to, context)


def _issue() -> tuple[str, str]:
    return codes.issue(codes.Purpose.LOGIN, timeout=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT)


def _pending(request: HttpRequest) -> dict | None:
    return get_pending(request, FLOW, settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT)


def _drop(request: HttpRequest, pending: dict) -> None:
    codes.discard(codes.Purpose.LOGIN, pending.get("code", ""))
    request.session.pop(skeys.PENDING, None)


def login_code_request(request: HttpRequest, *, email: str) -> None:
    """Mail a code (or the "no account here" note) and make the flow pending."""
    _require_enabled()
    email = emails.normalized(email)
    consume(request, Action.REQUEST_LOGIN_CODE, key=email)
    address = owned_address(email)
    user = address.user if address else None
    email = address.email if address else email  # the owner's spelling, as a reset mails it
    previous = _pending(request)
    if previous is not None:
        _drop(request, previous)  # one code per session: the newest
    code_id, code = _issue()
    try:
        if user is not None:
            send_code(email, code)
        else:
            mail.send(mail.Template.LOGIN_CODE_UNKNOWN, email, {})
    except ApiError:
        codes.discard(codes.Purpose.LOGIN, code_id)
        raise
    # The pending flow starts the login timeout anew, as allauth's stash does.
    set_pending(request, FLOW, user.pk if user else None, code=code_id, email=email, resends=0)


def login_code_resend(request: HttpRequest) -> None:
    """A new code in place of the pending one (allauth: within its resend
    quota, else 409). The "no account here" note is not sent again (allauth
    skips enumeration mails on resend); the answer is the same."""
    _require_enabled()
    pending = _pending(request)
    if pending is None or pending.get("resends", 0) >= resend_quota():
        raise not_pending("No login code can be sent again.")
    email = pending["email"]
    consume(request, Action.REQUEST_LOGIN_CODE, key=email)
    user = owner(email) if pending.get("user") else None
    code_id, code = _issue()
    if user is not None and user.pk == pending["user"]:
        try:
            send_code(email, code)
        except ApiError:
            codes.discard(codes.Purpose.LOGIN, code_id)
            raise
    codes.discard(codes.Purpose.LOGIN, pending.get("code", ""))
    request.session[skeys.PENDING] = {**pending, "code": code_id, "resends": pending["resends"] + 1}


def login_code_confirm(request: HttpRequest, *, code: str) -> bool:
    """Check the code; sign in its address's owner (True when logged in,
    False when a second factor is now pending). 400 `incorrect_code` while
    attempts remain, 409 once the flow is gone (expired, spent, used up)."""
    pending = _pending(request)
    if pending is None:
        raise not_pending()
    attempts = settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS
    result = codes.check(codes.Purpose.LOGIN, pending.get("code", ""), code, max_attempts=attempts)
    if result is codes.Result.GONE:
        _drop(request, pending)
        raise not_pending()
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if result.wrong:
        emit(request, Event.LOGIN_FAILED, user=user, outcome=Outcome.FAILURE, method=METHOD)
        if result is codes.Result.WRONG_LAST:
            _drop(request, pending)  # that was the last attempt: the flow ends, as allauth's
        raise incorrect_code()
    request.session.pop(skeys.PENDING, None)
    email = pending["email"]
    if user is None or owner(email) != user:
        raise not_pending()  # the address changed hands since (or was never owned)
    return complete_login(request, user=user, record=method_record(METHOD, email=email))
