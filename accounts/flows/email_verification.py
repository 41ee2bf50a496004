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

from accounts import codes, emails, mail, usercache
from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.flows import email_verification_by_code as by_code
from accounts.flows.signin import (
    Method,
    complete_login,
    email_origin,
    end_sessions_created_with,
    get_pending,
    method_record,
    set_pending,
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
    """Verify by key (by code: the code, accounts.flows.email_verification_by_code):
    `make_owner`, a refusal being an invalid key; then complete the sign-in
    that awaited this verification (a pending login or signup of the
    address's user, when it is the primary address)."""
    if by_code.enabled():
        return _verify_by_code(request, code=key)
    with transaction.atomic():
        address = address_for_key(key)
        try:
            make_owner(address)
        except IntegrityError:
            raise ApiError(
                400, Code.INVALID_OR_EXPIRED_KEY, "Invalid or expired key.", "key"
            ) from None
        emit(request, Event.EMAIL_VERIFIED, user=address.user)
    _signin_after(request, address)
    return address


def _signin_after(request: HttpRequest, address: EmailAddress) -> None:
    """The sign-in that awaited this verification, if any: logged in (the
    MFA stage applies), or the next stage the pending record names (`then`:
    a passkey signup goes on to register its passkey)."""
    if not (is_authenticating(request, address) and address.primary):
        return
    pending = _pending(request) or {}
    if pending.get("then"):
        set_pending(request, pending["then"], address.user_id)
        return
    record = method_record(Method.PASSWORD, email=address.email)
    complete_login(request, user=address.user, record=record)


def _pending(request: HttpRequest) -> dict | None:
    if request.user.is_authenticated:
        return None  # a signed-in session verifies an added address: no sign-in awaits it
    return get_pending(request, FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)


def is_authenticating(request: HttpRequest, address: EmailAddress) -> bool:
    """Whether this session awaits the verification of `address` to sign in."""
    pending = _pending(request)
    return bool(pending and pending.get("user") == address.user_id)


def verification_mail(request: HttpRequest, address: EmailAddress, *, mailed: bool) -> None:
    """A new claim's verification: its link when `mailed`; by code, a code
    for this session, kept (unmailed) even when not `mailed`, so the session
    answers the same either way."""
    if by_code.enabled():
        verified = address if mailed else None
        by_code.process_start(
            request, email=address.email, user_id=address.user_id, address=verified
        )
    elif mailed:
        email_verification_send(request, address, limited=False)


def login_verification_send(request: HttpRequest, address: EmailAddress) -> None:
    """A login that stops at verification: the link again (inside its
    cooldown none: the last one still works), or a code for this session,
    which needs its own, so the cooldown is the answer (429, as allauth)."""
    if by_code.enabled():
        consume(request, Action.CONFIRM_EMAIL, key=address.email)
        by_code.process_start(
            request, email=address.email, user_id=address.user_id, address=address
        )
        return
    try:
        email_verification_send(request, address)
    except ApiError as error:
        if error.status != 429:
            raise


# --- By code: the session's process (accounts.flows.email_verification_by_code) ---


def _no_process() -> ApiError:
    return ApiError(409, Code.CONFLICT, "No email verification is pending.")


def _incorrect() -> ApiError:
    return ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", "key")


def _code_process(request: HttpRequest) -> dict:
    """The process this session may complete: its own added address when
    signed in, else the one of the sign-in awaiting verification; 409 otherwise."""
    state = by_code.process_get(request)
    if request.user.is_authenticated:
        ok = state is not None and state.get("user") == request.user.pk
    else:
        pending = _pending(request)
        ok = state is not None and pending is not None and state.get("user") == pending["user"]
    if not ok:
        raise _no_process()
    return state


def _checked(request: HttpRequest, code: str, *, take: bool) -> EmailAddress:
    """The address the session's code verifies, once `code` is right."""
    state = _code_process(request)
    result = by_code.code_check(request, state, code, take=take)
    if by_code.process_get(request) is None and not request.user.is_authenticated:
        if result is not codes.Result.OK:
            request.session.pop(skeys.PENDING, None)  # allauth's abort: the sign-in is over
    if result is codes.Result.GONE:
        raise _no_process()
    address = _process_address(state) if result is codes.Result.OK else None
    if address is None:
        raise _incorrect()  # wrong, or a process with nothing to verify (by_code's doc)
    return address


def _process_address(state: dict) -> EmailAddress | None:
    """The unverified address a process verifies (None: nothing to verify)."""
    if state.get("address") is None:
        return None
    address = (
        EmailAddress.objects.select_related("user")
        .filter(pk=state["address"], user_id=state["user"], verified=False)
        .first()
    )
    if address is None or address.email.lower() != state["email"].lower():
        return None
    return address


def email_verification_info(request: HttpRequest, *, key: str) -> tuple[EmailAddress, bool]:
    """GET /auth/email/verify: the address `key` (the link's, or the code)
    verifies, and whether verifying it signs this session in."""
    if by_code.enabled():
        address = _checked(request, key, take=False)
    else:
        address = address_for_key(key)
    return address, is_authenticating(request, address)


def _verify_by_code(request: HttpRequest, *, code: str) -> EmailAddress:
    with transaction.atomic():
        address = _checked(request, code, take=True)
        try:
            make_owner(address)
        except IntegrityError:
            # Someone else verified it meanwhile (allauth's can_set_verified).
            raise ApiError(
                400, Code.EMAIL_TAKEN, "This email address is already verified.", "key"
            ) from None
        emit(request, Event.EMAIL_VERIFIED, user=address.user)
    _signin_after(request, address)
    return address


def _resend_code(request: HttpRequest) -> None:
    """A new code for the session's process, within allauth's resend quota
    (409 past it) and the address's cooldown (429); counted against the
    address's mail limit whether or not there is anything to mail."""
    state = _code_process(request)
    if state.get("resends", 0) >= by_code.RESEND_COUNT:
        raise _no_process()
    consume(request, Action.CONFIRM_EMAIL, key=state["email"])
    allowed = address_mail_allowed(request, state["email"])
    by_code.process_start(
        request,
        email=state["email"],
        user_id=state["user"],
        address=_process_address(state) if allowed else None,
        resends=state.get("resends", 0) + 1,
    )


def email_verification_resend(request: HttpRequest) -> None:
    """Mail the pending verification's link again (429 inside its cooldown);
    409 when no verification is pending. By code: a new code (_resend_code)."""
    if by_code.enabled():
        _resend_code(request)
        return
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
