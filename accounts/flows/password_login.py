"""Email + password login."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest

from accounts import emails
from accounts.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.flows.email_verification import Verification
from accounts.flows.signin import (
    Method,
    add_method,
    complete_login,
    method_record,
    set_pending,
)
from accounts.ratelimit import Action, consume, consume_all
from accounts.signals import Event, Outcome, emit


def password_login(request: HttpRequest, *, email: str, password: str) -> None:
    """Log in, or leave the session awaiting email verification.

    The password checked is that of the address's verified owner, or, when
    nobody owns it yet, of its latest pending signup (accounts.backends).
    A pending signup is only ever sent on to verification when that is
    mandatory: the account opens through the link mailed to the address.
    An unknown email costs the same password hash, so timing tells nothing.
    """
    email = emails.normalized(email)
    _login, failed = consume_all(request, [(Action.LOGIN, None), (Action.LOGIN_FAILED, email)])
    user = authenticate(request, username=email, password=password, pending_signup=True)
    if user is None:
        emit(request, Event.LOGIN_FAILED, outcome=Outcome.FAILURE, method=Method.PASSWORD)
        raise ApiError(
            400,
            Code.EMAIL_PASSWORD_MISMATCH,
            "The email address and/or password you specified are not correct.",
        )
    failed.refund()
    address = getattr(user, "login_address", None)  # set by accounts.backends
    pending = address is not None and not address.verified
    if pending and email_verification.verification_mode() is Verification.MANDATORY:
        email_verification.login_verification_send(request, address)
        set_pending(request, email_verification.FLOW, user.pk)
        return
    record = method_record(Method.PASSWORD, email=address.email if address else email)
    complete_login(request, user=user, record=record)


def password_reauthenticate(request: HttpRequest, *, password: str) -> None:
    user = request.user
    consume(request, Action.REAUTHENTICATE, user=user)
    if not user.check_password(password):
        emit(
            request,
            Event.REAUTHENTICATED,
            user=user,
            outcome=Outcome.FAILURE,
            method=Method.PASSWORD,
        )
        raise ApiError(400, Code.INCORRECT_PASSWORD, "Incorrect password.", "password")
    add_method(request, method_record(Method.PASSWORD, email=user.email, reauthenticated=True))
    emit(request, Event.REAUTHENTICATED, user=user, method=Method.PASSWORD)
