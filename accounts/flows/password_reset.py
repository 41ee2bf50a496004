"""Password reset by emailed key (Django's PasswordResetTokenGenerator).

The key is `<user id base36>-<token>`; the token embeds the password hash and
last login, so it dies as soon as it is used. A request for an unknown address
mails that address a short "no account here" note: both paths send one mail,
so the answer and its timing are the same (no enumeration).
"""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.utils.http import base36_to_int, int_to_base36

from accounts import mail
from accounts.api.errors import ApiError, Code
from accounts.flows.authentication import end_sessions, user_sessions
from accounts.flows.passwords import check_new_password
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit


def make_key(user: User) -> str:
    return f"{int_to_base36(user.pk)}-{default_token_generator.make_token(user)}"


def user_for_key(key: str) -> User:
    invalid = ApiError(400, Code.INVALID_OR_EXPIRED_KEY, "Invalid or expired key.", "key")
    uid36, sep, token = key.partition("-")
    if not sep or len(uid36) > 13:
        raise invalid
    try:
        pk = base36_to_int(uid36)
    except ValueError:
        raise invalid from None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise invalid
    return user


def request_reset(request: HttpRequest, *, email: str) -> None:
    consume(request, Action.RESET_PASSWORD, key=email)
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        mail.send(mail.Template.PASSWORD_RESET_UNKNOWN, email, {})
        return
    link = mail.frontend_url(mail.FrontendPath.PASSWORD_RESET, key=make_key(user))
    mail.send(mail.Template.PASSWORD_RESET, user.email, {"link": link, "user": user})


def reset_password(request: HttpRequest, *, key: str, password: str) -> User:
    """Set the new password, trust the address the key reached, end every session."""
    consume(request, Action.RESET_PASSWORD_FROM_KEY)
    user = user_for_key(key)
    check_new_password(password, user)
    # All or nothing: ending sessions needs Redis (accounts.sessions).
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        # Following the emailed link proves the primary address is the user's.
        EmailAddress.objects.filter(user=user, primary=True, verified=False).exclude(
            email__in=EmailAddress.objects.filter(verified=True).exclude(user=user).values("email")
        ).update(verified=True)
        end_sessions(list(user_sessions(user).values_list("session_key", flat=True)))
    emit(request, Event.PASSWORD_RESET, user=user, method="password_reset")
    return user
