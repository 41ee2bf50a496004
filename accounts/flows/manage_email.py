"""A signed-in user's email addresses (allauth's /account/email)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import emails, mail
from accounts.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.flows.signin import email_origin, end_sessions_created_with
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume

RESEND_COOLDOWN = "Too many verification mails were sent to this address; try again later."


def email_address_list(*, user: User) -> list[EmailAddress]:
    return list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))


def _own(user: User, email: str) -> EmailAddress:
    email = emails.normalized(email)
    address = emails.addresses_of(email).filter(user=user).first()
    if address is None:
        raise ApiError(
            400, Code.UNKNOWN_EMAIL, "This address is not assigned to your account.", "email"
        )
    return address


def _owned_by_another(user: User, email: str) -> bool:
    owner = emails.owner_address(email)
    return owner is not None and owner.user_id != user.pk


def _mail_claim(request: HttpRequest, user: User, address: EmailAddress) -> None:
    """The verification link (or code) for a claim of an address nobody owns;
    its owner's notice ("someone tried to add your address") instead
    otherwise. Both count against the address's mail limit, skipped once it
    is spent. By code, the session gets a code either way (unmailed but for
    the verification: accounts.flows.email_verification_by_code)."""
    allowed = email_verification.address_mail_allowed(request, address.email)
    owned = _owned_by_another(user, address.email)
    if allowed and owned:
        login_link = mail.frontend_url(mail.FrontendPath.LOGIN)
        mail.send(mail.Template.ADDRESS_CLAIMED, address.email, {"login_link": login_link})
    email_verification.verification_mail(request, address, mailed=allowed and not owned)


def email_address_add(request: HttpRequest, *, user: User, email: str) -> None:
    """Add `email` to `user` as an unverified claim and mail the address.

    The answer is the same whether or not another user owns the address
    (API.md v1.1): the claim is listed either way. The owner gets a notice
    instead of a link, so such a claim can never be verified; one of an
    address nobody owns gets the verification link. Both count against the
    address's mail limit. A claim never becomes `User.email`: verifying it
    does (accounts.flows.email_verification). The mail goes out inside the
    transaction, so a mail server outage (503) adds nothing.
    """
    consume(request, Action.MANAGE_EMAIL, user=user)
    email = emails.normalized(email)
    if emails.addresses_of(email).filter(user=user).exists():
        raise ApiError(
            400, Code.EMAIL_TAKEN, "This address is already assigned to your account.", "email"
        )
    try:
        with transaction.atomic():
            first = not EmailAddress.objects.filter(user=user, primary=True).exists()
            address = EmailAddress.objects.create(user=user, email=email, primary=first)
            _mail_claim(request, user, address)
    except IntegrityError:
        raise ApiError(  # the same request twice at once
            400, Code.EMAIL_TAKEN, "This address is already assigned to your account.", "email"
        ) from None


def email_address_resend(request: HttpRequest, *, user: User, email: str) -> None:
    consume(request, Action.MANAGE_EMAIL, user=user)
    address = _own(user, email)
    if address.verified:
        raise ApiError(400, Code.INVALID, "This address is already verified.", "email")
    try:
        consume(request, Action.CONFIRM_EMAIL, key=address.email)
    except ApiError as error:
        if error.status != 429:
            raise
        # Inside the address's cooldown allauth answers 403 ("too many
        # verification mails"), not 429; the code `rate_limited` says why.
        raise ApiError(
            403, Code.RATE_LIMITED, RESEND_COOLDOWN, "email", headers=error.headers
        ) from None
    _mail_claim(request, user, address)


def email_address_make_primary(request: HttpRequest, *, user: User, email: str) -> None:
    consume(request, Action.MANAGE_EMAIL, user=user)
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


def email_address_remove(request: HttpRequest, *, user: User, email: str) -> None:
    """Remove an address, and end the sessions signed in with it (all but
    the current one): whoever signed in by it loses that way in too."""
    consume(request, Action.MANAGE_EMAIL, user=user)
    address = _own(user, email)
    if address.primary and address.verified:  # an unverified primary is only a claim
        raise ApiError(
            400,
            Code.CANNOT_REMOVE_PRIMARY_EMAIL,
            "You cannot remove your primary email address.",
            "email",
        )
    with transaction.atomic():  # ending sessions needs Redis: a 503 keeps the address
        address.delete()
        end_sessions_created_with(
            [user.pk], email_origin(address.email), keep=request.session.session_key
        )
