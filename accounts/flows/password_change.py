"""Change (or, for a user without a usable password, set) the password."""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest

from accounts.errors import ApiError, Code
from accounts.flows.passwords import check_new_password
from accounts.flows.signin import end_other_sessions
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit


def password_change(request: HttpRequest, *, current_password: str, new_password: str) -> None:
    user = request.user
    consume(request, Action.CHANGE_PASSWORD, user=user)
    if user.has_usable_password():
        if not current_password:
            raise ApiError(
                400, Code.REQUIRED, "Please type your current password.", "current_password"
            )
        if not user.check_password(current_password):
            raise ApiError(
                400,
                Code.ENTER_CURRENT_PASSWORD,
                "Please type your current password.",
                "current_password",
            )
    check_new_password(new_password, user, "new_password")
    # All or nothing: ending sessions needs Redis (accounts.sessions); if it is
    # unreachable the password stays as it was and the client gets a 503.
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        # Keeps this session (on a new key: the token rotates), ends all others.
        update_session_auth_hash(request, user)
        end_other_sessions(user, keep=request.session.session_key)
    emit(request, Event.PASSWORD_CHANGED, user=user)
