"""A signed-in user's email addresses (allauth's /account/email)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import mail
from accounts.api.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.models import EmailAddress, User


def email_addresses(user: User) -> list[EmailAddress]:
    return list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))


def _own(user: User, email: str) -> EmailAddress:
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None:
        raise ApiError(
            400, Code.UNKNOWN_EMAIL, "This address is not assigned to your account.", "email"
        )
    return address


def email_address_add(request: HttpRequest, *, user: User, email: str) -> None:
    email = User.objects.normalize_email(email)
    if EmailAddress.objects.filter(user=user, email__iexact=email).exists():
        raise ApiError(
            400, Code.EMAIL_TAKEN, "This address is already assigned to your account.", "email"
        )
    taken = (
        User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )
    if taken:
        if not settings.ACCOUNT_PREVENT_ENUMERATION:
            raise ApiError(
                400, Code.EMAIL_TAKEN, "A user is already registered with this address.", "email"
            )
        mail.send(
            mail.Template.ACCOUNT_EXISTS,
            email,
            {
                "login_link": mail.frontend_url(mail.FrontendPath.LOGIN),
                "reset_link": mail.frontend_url(mail.FrontendPath.PASSWORD_RESET_REQUEST),
            },
        )
        return
    first = not EmailAddress.objects.filter(user=user, primary=True).exists()
    try:
        with transaction.atomic():
            address = EmailAddress.objects.create(user=user, email=email, primary=first)
            if first:
                user.email = email
                user.save(update_fields=["email"])
    except IntegrityError:
        raise ApiError(
            400, Code.EMAIL_TAKEN, "A user is already registered with this address.", "email"
        ) from None
    email_verification.send_verification(request, address, limited=False)


def email_address_resend(request: HttpRequest, *, user: User, email: str) -> None:
    address = _own(user, email)
    if address.verified:
        raise ApiError(400, Code.INVALID, "This address is already verified.", "email")
    email_verification.send_verification(request, address)


def email_address_make_primary(*, user: User, email: str) -> None:
    address = _own(user, email)
    if not address.verified:
        raise ApiError(
            400,
            Code.UNVERIFIED_PRIMARY_EMAIL,
            "Your primary email address must be verified.",
            "email",
        )
    with transaction.atomic():
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        address.primary = True
        address.save(update_fields=["primary"])
        user.email = address.email
        user.save(update_fields=["email"])


def email_address_remove(*, user: User, email: str) -> None:
    address = _own(user, email)
    if address.primary:
        raise ApiError(
            400,
            Code.CANNOT_REMOVE_PRIMARY_EMAIL,
            "You cannot remove your primary email address.",
            "email",
        )
    address.delete()


def primary_address(user_id: int | None) -> EmailAddress | None:
    if user_id is None:
        return None
    return EmailAddress.objects.filter(user_id=user_id, primary=True).first()
