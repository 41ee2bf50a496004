"""The second factor at sign-in (`mfa_authenticate`) and at reauthentication
(`mfa_reauthenticate`).

A first factor (password, wallet, a verified signup) of a user with an active
TOTP does not log in: the stage records the pending flow in the session with
the first factor's method record, and POST /auth/2fa/authenticate completes
it with a TOTP or recovery code, within ACCOUNT_LOGIN_TIMEOUT. The pending
record also holds the user's session hash, so a password changed meanwhile
voids it, as it voids sessions. A browser the user trusted (trust.py) skips
the stage; with MFA_TRUST_ENABLED a browser sign-in that passed it stops once
more, at `mfa_trust`, in a pending record of the same kind.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.flows.signin import (
    add_method,
    get_pending,
    login_user,
    method_record,
    set_pending,
)
from accounts.mfa import totp
from accounts.mfa.flows import trust
from accounts.mfa.flows.manage import recovery_code_use
from accounts.mfa.models import Authenticator
from accounts.models import User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, Outcome, emit

FLOW_AUTHENTICATE = "mfa_authenticate"
FLOW_REAUTHENTICATE = "mfa_reauthenticate"
METHOD = "mfa"
Type = Authenticator.Type
# Types that make a sign-in stop at the stage: recovery codes alone never do.
STAGE_TYPES = frozenset({Type.TOTP, Type.WEBAUTHN})


def active_types(user) -> list[str]:
    """The user's authenticator types, in allauth's order."""
    found = set(Authenticator.objects.filter(user_id=user.pk).values_list("type", flat=True))
    return [t.value for t in Type if t in found]


def mfa_login_stage(request: HttpRequest, *, user, record: dict) -> bool:
    """accounts.flows.signin.login_stages: stop here when `user` has a second factor."""
    types = active_types(user)
    if STAGE_TYPES.isdisjoint(types) or trust.trusted_skip(request, user):
        return False
    set_pending(
        request,
        FLOW_AUTHENTICATE,
        user.pk,
        record=record,
        types=types,
        hash=user.get_session_auth_hash(),
    )
    return True


def pending_user(request: HttpRequest, flow: str = FLOW_AUTHENTICATE) -> tuple[User, dict] | None:
    """The user the pending stage `flow` awaits, with the stage; None when no
    such stage is pending (or it timed out, or the password changed)."""
    pending = get_pending(request, flow, settings.ACCOUNT_LOGIN_TIMEOUT)
    if pending is None:
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or not constant_time_compare(
        user.get_session_auth_hash(), pending.get("hash", "")
    ):
        request.session.pop(skeys.PENDING, None)
        return None
    return user, pending


def code_check(*, user, code: str) -> Authenticator | None:
    """The authenticator `code` is a fresh code of (TOTP first), spending it."""
    for authenticator in Authenticator.objects.filter(user_id=user.pk).order_by("-type"):
        if authenticator.type == Type.TOTP and totp.totp_use(authenticator, code):
            return authenticator
        if authenticator.type == Type.RECOVERY_CODES and recovery_code_use(authenticator, code):
            return authenticator
    return None


def verified_code(request: HttpRequest, *, user, code: str, event: str) -> Authenticator:
    """Check `code` under the per-user limit; 400 `incorrect_code` when wrong."""
    attempt = consume(request, Action.MFA_AUTHENTICATE, user=user)
    authenticator = code_check(user=user, code=code)
    if authenticator is None:
        emit(request, event, user=user, outcome=Outcome.FAILURE, method=METHOD)
        raise ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", "code")
    attempt.refund()
    return authenticator


def mfa_authenticate(request: HttpRequest, *, user, pending: dict, code: str) -> None:
    """Complete the pending sign-in with a second factor."""
    authenticator = verified_code(request, user=user, code=code, event=Event.MFA_AUTHENTICATED)
    emit(request, Event.MFA_AUTHENTICATED, user=user, method=METHOD, type=authenticator.type)
    record = method_record(METHOD, id=authenticator.pk, type=authenticator.type)
    second_factor_passed(request, user=user, pending=pending, record=record)


def second_factor_passed(request: HttpRequest, *, user, pending: dict, record: dict) -> None:
    """Sign in after the second factor (`record`), or stop at `mfa_trust`."""
    if trust.trust_stage(request, user=user, pending=pending, record=record):
        return
    login_user(request, user, pending["record"])
    add_method(request, record)


def mfa_reauthenticate(request: HttpRequest, *, code: str) -> None:
    user = request.user
    authenticator = verified_code(request, user=user, code=code, event=Event.REAUTHENTICATED)
    record = method_record(
        METHOD, id=authenticator.pk, type=authenticator.type, reauthenticated=True
    )
    add_method(request, record)
    emit(request, Event.REAUTHENTICATED, user=user, method=METHOD, type=authenticator.type)
