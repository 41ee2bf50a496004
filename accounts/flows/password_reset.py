"""Password reset by emailed key (Django's PasswordResetTokenGenerator).

The key is `<user id base36>-<token>`; the token embeds the password hash and
last login, so it dies as soon as it is used. A request for an unknown address
mails that address a short "no account here" note: both paths send one mail,
so the answer and its timing are the same (no enumeration).

Only an owned (verified) address receives a reset, for its owner's account:
a claim of it on another account never does (API.md v1.1), so the owner of
a mailbox cannot be led into the account of someone who merely claimed it.

With ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED a code takes the link's place,
under the same rules (accounts.flows.password_reset_by_code).
"""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.utils.http import base36_to_int, int_to_base36

from accounts import emails, mail
from accounts.errors import ApiError, Code
from accounts.flows import password_reset_by_code as by_code
from accounts.flows.passwords import check_new_password
from accounts.flows.signin import end_sessions, user_sessions
from accounts.models import User
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


def password_reset_request(request: HttpRequest, *, email: str) -> None:
    email = emails.normalized(email)
    consume(request, Action.RESET_PASSWORD, key=email)
    if by_code.enabled():
        by_code.password_reset_code_request(request, email=email)
        return
    address = emails.owner_address(email)
    if address is None or not address.user.is_active:
        mail.send(mail.Template.PASSWORD_RESET_UNKNOWN, email, {})
        return
    user = address.user
    link = mail.frontend_url(mail.FrontendPath.PASSWORD_RESET, key=make_key(user))
    mail.send(mail.Template.PASSWORD_RESET, address.email, {"link": link, "user": user})


def password_reset_user(request: HttpRequest, *, key: str) -> User:
    """The user a key (or, by code, the pending flow's code) resets."""
    if by_code.enabled():
        consume(request, Action.RESET_PASSWORD_FROM_KEY)
        return by_code.password_reset_code_user(request, code=key)
    return user_for_key(key)


def password_reset_confirm(request: HttpRequest, *, key: str, password: str) -> User:
    """Set the new password and end every session."""
    consume(request, Action.RESET_PASSWORD_FROM_KEY)
    if by_code.enabled():
        user = by_code.password_reset_code_user(request, code=key)
    else:
        user = user_for_key(key)
    check_new_password(password, user)
    # All or nothing: ending sessions needs Redis (accounts.sessions).
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        end_sessions(list(user_sessions(user).values_list("session_key", flat=True)))
    if by_code.enabled():
        by_code.password_reset_code_done(request)
    emit(request, Event.PASSWORD_RESET, user=user, method="password_reset")
    return user
