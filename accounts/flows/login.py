"""Email + password login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest

from accounts.api.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.flows.authentication import (
    Method,
    add_method,
    complete_login,
    method_record,
    set_pending,
)
from accounts.models import EmailAddress
from accounts.ratelimit import Action, consume, consume_all
from accounts.signals import Event, Outcome, emit


def password_login(request: HttpRequest, *, email: str, password: str) -> None:
    """Log in, or leave the session awaiting email verification.

    An unknown email costs the same password hash as a known one
    (ModelBackend hashes for missing users), so timing tells nothing.
    """
    _login, failed = consume_all(request, [(Action.LOGIN, None), (Action.LOGIN_FAILED, email)])
    user = authenticate(request, username=email, password=password)
    if user is None:
        emit(request, Event.LOGIN_FAILED, outcome=Outcome.FAILURE, method=Method.PASSWORD)
        raise ApiError(
            400,
            Code.EMAIL_PASSWORD_MISMATCH,
            "The email address and/or password you specified are not correct.",
        )
    failed.refund()
    if settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory":
        address = EmailAddress.objects.filter(user=user, primary=True).first()
        if address is not None and not address.verified:
            try:
                email_verification.send_verification(request, address)
            except ApiError:
                pass  # a link went out moments ago; the answer stays the same
            set_pending(request, email_verification.FLOW, user.pk)
            return
    complete_login(request, user=user, record=method_record(Method.PASSWORD, email=user.email))


def reauthenticate(request: HttpRequest, *, password: str) -> None:
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
