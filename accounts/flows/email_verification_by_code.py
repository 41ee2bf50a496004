"""Email verification by code (allauth's ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED).

A verification is a process held by the session that started it, as in
allauth (its EmailVerificationProcess): a code (accounts.codes) is issued
for one address and mailed to it; the session keeps the code's id, the
address and its user, never the code. One process per session: a new one
(a resend, another address) ends the previous code.

A process may hold a code nobody was mailed: the signup of an address
someone owns (the owner gets the "account already exists" mail instead), an
address another user owns added to an account (its owner gets a notice), or
an address whose mail limit is spent. The answers are the same as for a
mailed code, so nothing tells them apart, and such a process has no address
to verify: a right guess of its code would still verify nothing.

Wrong codes spend the code's attempts (ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS,
counted in Redis, so parallel guesses cannot exceed them); the attempt that
spends the last one ends the process, as allauth's abort does.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts import codes, mail

SESSION_KEY = "signet.email_verification.code"
PURPOSE = codes.Purpose.VERIFY_EMAIL
# Resends a process allows: allauth's EMAIL_VERIFICATION_MAX_RESEND_COUNT
# for ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND = True.
RESEND_COUNT = 2


def enabled() -> bool:
    return settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED


def _timeout() -> int:
    return settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT


def _max_attempts() -> int:
    return settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS


def process_get(request: HttpRequest) -> dict | None:
    """The session's process while its code can still be tried."""
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict) or not codes.exists(PURPOSE, state.get("id", "")):
        request.session.pop(SESSION_KEY, None)
        return None
    return state


def process_end(request: HttpRequest) -> None:
    state = request.session.pop(SESSION_KEY, None)
    if isinstance(state, dict):
        codes.discard(PURPOSE, state.get("id", ""))


def process_start(
    request: HttpRequest,
    *,
    email: str,
    user_id: int | None,
    address=None,
    resends: int = 0,
) -> None:
    """A new code for `email` (ending the session's previous one) in a
    process of `user_id`; mailed when it verifies `address` (an unverified
    EmailAddress of that user), else kept unmailed (the module doc)."""
    process_end(request)
    code_id, code = codes.issue(PURPOSE, timeout=_timeout())
    request.session[SESSION_KEY] = {
        "id": code_id,
        "email": email,
        "user": user_id,
        "address": address.pk if address is not None else None,
        "resends": resends,
    }
    if address is not None:
        context = {"code": code, "user": address.user, "timeout_minutes": _timeout() // 60}
        mail.send(mail.Template.VERIFY_EMAIL_CODE, email, context)


def code_check(request: HttpRequest, state: dict, code: str, *, take: bool) -> codes.Result:
    """Spend an attempt at the process's code; `take` spends a right one too
    (POST verifies), else it stays for the POST (GET shows what it verifies).
    A wrong attempt that was the last ends the process (WRONG_LAST: that
    answer is 400 as allauth's; the next one finds no process)."""
    check = codes.check if take else codes.peek
    result = check(PURPOSE, state["id"], code, max_attempts=_max_attempts())
    ended = result in (codes.Result.GONE, codes.Result.WRONG_LAST)
    if ended or (take and result is codes.Result.OK):
        request.session.pop(SESSION_KEY, None)
    return result
