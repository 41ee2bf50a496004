"""Email verification keys, mails and the pending-verification stage.

A key is a signed, timestamped reference to one EmailAddress row and the
address it held (django.core.signing): it expires after
ACCOUNT_EMAIL_VERIFICATION_EXPIRE_DAYS and is useless once the address is
verified, so it works once.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import mail
from accounts.api.errors import ApiError, Code
from accounts.models import EmailAddress
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit

SALT = "signet.email-verification"
FLOW = "verify_email"


def make_key(address: EmailAddress) -> str:
    return signing.dumps({"a": address.pk, "e": address.email.lower()}, salt=SALT, compress=True)


def address_for_key(key: str) -> EmailAddress:
    invalid = ApiError(400, Code.INVALID_OR_EXPIRED_KEY, "Invalid or expired key.", "key")
    max_age = settings.ACCOUNT_EMAIL_VERIFICATION_EXPIRE_DAYS * 86400
    try:
        payload = signing.loads(key, salt=SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        raise invalid from None
    if not isinstance(payload, dict):
        raise invalid
    address = (
        EmailAddress.objects.select_related("user")
        .filter(pk=payload.get("a"), verified=False)
        .first()
    )
    if address is None or address.email.lower() != payload.get("e"):
        raise invalid
    return address


def send_verification(request: HttpRequest, address: EmailAddress, *, limited: bool = True) -> None:
    """Mail a verification link; with `limited`, 429 inside the per-address cooldown."""
    if limited:
        consume(request, Action.CONFIRM_EMAIL, key=address.email)
    link = mail.frontend_url(mail.FrontendPath.VERIFY_EMAIL, key=make_key(address))
    mail.send(mail.Template.VERIFY_EMAIL, address.email, {"link": link, "user": address.user})


def confirm(request: HttpRequest, address: EmailAddress) -> EmailAddress:
    """Mark verified; the database refuses a second verified owner."""
    try:
        with transaction.atomic():
            address.verified = True
            address.save(update_fields=["verified"])
    except IntegrityError:
        raise ApiError(400, Code.INVALID_OR_EXPIRED_KEY, "Invalid or expired key.", "key") from None
    emit(request, Event.EMAIL_VERIFIED, user=address.user)
    return address
