"""Email verification keys, mails and the pending-verification stage.

A key is a signed, timestamped reference to one EmailAddress row and the
address it held (django.core.signing): it expires after
ACCOUNT_EMAIL_VERIFICATION_EXPIRE_DAYS and is useless once the address is
verified, so it works once.

Verifying makes the user the address's owner (API.md v1.1): everyone else's
unverified claims of it are dropped in the same transaction (with the
sessions they signed in, and the pending signups they leave with nothing),
and it becomes `User.email` when it is, or now takes the place of, the
primary address.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest

from accounts import emails, mail, usercache
from accounts.errors import ApiError, Code
from accounts.flows.signin import (
    Method,
    complete_login,
    email_origin,
    end_sessions_created_with,
    get_pending,
    method_record,
)
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit

SALT = "signet.email-verification"
FLOW = "verify_email"


class Verification(StrEnum):
    """ACCOUNT_EMAIL_VERIFICATION's modes, as allauth names them (the setting
    is checked against these values in config.settings.base)."""

    NONE = "none"  # an address is its user's on signup
    OPTIONAL = "optional"  # mailed a link, signed in meanwhile
    MANDATORY = "mandatory"  # signed in only through the link


def verification_mode() -> Verification:
    return Verification(settings.ACCOUNT_EMAIL_VERIFICATION)


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


def email_verification_send(
    request: HttpRequest, address: EmailAddress, *, limited: bool = True
) -> None:
    """Mail a verification link; with `limited`, 429 inside the per-address cooldown."""
    if limited:
        consume(request, Action.CONFIRM_EMAIL, key=address.email)
    link = mail.frontend_url(mail.FrontendPath.VERIFY_EMAIL, key=make_key(address))
    mail.send(mail.Template.VERIFY_EMAIL, address.email, {"link": link, "user": address.user})


def address_mail_allowed(request: HttpRequest, email: str) -> bool:
    """Count a mail that someone other than the address's owner makes Signet
    send to it (a signup's verification or "account exists" mail, an added
    address's verification or "someone tried to add it" notice); False once
    the per-address limit is spent. Every such path counts, whoever owns the
    address, so a skipped mail tells nothing; the answer stays the same."""
    try:
        consume(request, Action.ADDRESS_MAIL, key=email)
    except ApiError as error:
        if error.status != 429:
            raise
        return False
    return True


def make_owner(address: EmailAddress) -> None:
    """Mark verified and make its user the owner (the module doc); the
    database refuses a second verified owner (IntegrityError, nothing done)."""
    with transaction.atomic():
        address.verified = True
        address.save(update_fields=["verified"])
        _own(address)


def email_address_verify(request: HttpRequest, *, key: str) -> EmailAddress:
    """Verify by key: `make_owner`, a refusal being an invalid key; then
    complete the sign-in that awaited this verification (a pending login or
    signup of the address's user, when it is the primary address)."""
    with transaction.atomic():
        address = address_for_key(key)
        try:
            make_owner(address)
        except IntegrityError:
            raise ApiError(
                400, Code.INVALID_OR_EXPIRED_KEY, "Invalid or expired key.", "key"
            ) from None
        emit(request, Event.EMAIL_VERIFIED, user=address.user)
    if is_authenticating(request, address) and address.primary:
        record = method_record(Method.PASSWORD, email=address.email)
        complete_login(request, user=address.user, record=record)
    return address


def is_authenticating(request: HttpRequest, address: EmailAddress) -> bool:
    """Whether this session awaits the verification of `address` to sign in."""
    pending = get_pending(request, FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)
    return bool(pending and pending.get("user") == address.user_id)


def email_verification_resend(request: HttpRequest) -> None:
    """Mail the pending verification's link again (429 inside its cooldown);
    409 when no verification is pending."""
    pending = get_pending(request, FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)
    if not pending:
        raise ApiError(409, Code.CONFLICT, "No email verification is pending.")
    user_id = pending.get("user")
    address = (
        None
        if user_id is None
        else EmailAddress.objects.filter(user_id=user_id, primary=True).first()
    )
    if address is None:
        # The "account already exists" path: nothing to resend, same answer.
        consume(request, Action.CONFIRM_EMAIL, key=str(request.session.session_key))
    elif not address.verified:
        email_verification_send(request, address)


def _own(address: EmailAddress) -> None:
    """The rest of becoming the owner (inside make_owner's transaction)."""
    user = address.user
    claims = emails.addresses_of(address.email).filter(verified=False).exclude(user=user)
    rows = dict(claims.values_list("pk", "user_id"))
    claimers = set(rows.values())
    if claimers:
        end_sessions_created_with(claimers, email_origin(address.email))
        EmailAddress.objects.filter(pk__in=rows).delete()
        # Signups that never completed and now hold nothing: nobody can reach them.
        User.objects.filter(
            pk__in=claimers,
            last_login=None,
            is_staff=False,
            is_superuser=False,
            emailaddresses=None,
            wallets=None,
        ).delete()
    # Rows written before claims were kept apart may hold the address as User.email.
    key = emails.email_key(address.email)
    stale = User.objects.alias(email_ci=Lower("email")).filter(email_ci=key)
    for user_id in stale.exclude(pk=user.pk).values_list("pk", flat=True):
        User.objects.filter(pk=user_id).update(email=None)
        usercache.changed(user_id)
    primary = EmailAddress.objects.filter(user=user, primary=True).exclude(pk=address.pk).first()
    if primary is not None and primary.verified:
        return  # a verified primary stays the user's choice
    if primary is not None:
        # An unverified primary was only ever a claim: the owned address takes its place.
        primary.primary = False
        primary.save(update_fields=["primary"])
    if not address.primary:
        address.primary = True
        address.save(update_fields=["primary"])
    user.email = address.email
    user.save(update_fields=["email"])
