"""Email + password signup, with allauth's enumeration-safe behaviour.

Only a verified owner makes an address taken (API.md v1.1): a claim (an
address someone added to their account, or another signup still waiting for
verification) never blocks a signup. A signup is itself a claim until the
mailed link is followed: its user has no `User.email`, and password login
leads it back to verification (when that is mandatory). Two pending signups of one address
cannot reach each other's account; whichever verifies first owns the address
and the other's claim is dropped (accounts.flows.email_verification).

With verification `none` nobody proves anything, so the signup owns the
address at once (verified by the operator's choice), as the first signup did
before.

When verification is mandatory, a taken address answers exactly like a fresh
signup (401, `verify_email` pending) and its owner gets an "account already
exists" mail instead; both paths hash the password, count one mail against
the address's limit and send it, so they also take about the same time.
Without mandatory verification a fresh signup logs straight in, which cannot
be faked, so a taken address is 400 `email_taken` (as in allauth).

What a failed mail leaves behind: nothing. The user is created and the mail
sent in one transaction; if the mail server refuses, the signup rolls back
and answers 503 (accounts.mail), and the same request can simply be retried.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import emails, mail
from accounts.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.flows import email_verification_by_code as by_code
from accounts.flows.email_verification import Verification
from accounts.flows.passwords import check_new_password
from accounts.flows.signin import Method, complete_login, method_record, set_pending
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit


def email_in_use(email: str) -> bool:
    """Whether any user lists `email`, claim or not: the admin's conservative
    rule for the address it sets as a new user's `User.email`. Signup asks
    `emails.owner_address` instead."""
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def _account_exists_mail(request: HttpRequest, email: str) -> None:
    if not email_verification.address_mail_allowed(request, email):
        return
    mail.send(
        mail.Template.ACCOUNT_EXISTS,
        email,
        {
            "login_link": mail.frontend_url(mail.FrontendPath.LOGIN),
            "reset_link": mail.frontend_url(mail.FrontendPath.PASSWORD_RESET_REQUEST),
        },
    )


def _hidden_taken(request: HttpRequest, email: str, password: str | None, then: str) -> None:
    if password is not None:
        make_password(password)  # same cost as a real signup
    _account_exists_mail(request, email)
    if by_code.enabled():
        by_code.process_start(request, email=email, user_id=None)  # a code nobody gets
    set_pending(request, email_verification.FLOW, None, **_then(then))


def _then(then: str) -> dict:
    return {"then": then} if then else {}


def _create(request: HttpRequest, email: str, password: str | None, method: str) -> User | None:
    """The user and its address, with the verification mail in the same
    transaction; None when someone verified the address meanwhile. A
    passwordless user (a passkey signup) has an unusable password."""
    owned = email_verification.verification_mode() is Verification.NONE
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=None, password=password)
            address = EmailAddress.objects.create(user=user, email=email, primary=True)
            if owned:
                email_verification.make_owner(address)
            else:
                mailed = email_verification.address_mail_allowed(request, email)
                email_verification.verification_mail(request, address, mailed=mailed)
    except IntegrityError:
        return None  # lost a race for the same address
    emit(request, Event.SIGNUP, user=user, method=method)
    return user


def user_signup(
    request: HttpRequest,
    *,
    email: str,
    password: str | None,
    method: str = Method.PASSWORD,
    then: str = "",
) -> None:
    """Sign up; afterwards the session is logged in or awaits verification.
    `then`: the stage that follows the verification instead of the login (a
    passkey signup's `mfa_signup_webauthn`, which also has no `password`)."""
    if not settings.ACCOUNT_SIGNUP_OPEN:
        raise ApiError(403, Code.SIGNUP_CLOSED, "Signup is closed.")
    consume(request, Action.SIGNUP)
    mandatory = email_verification.verification_mode() is Verification.MANDATORY
    hide = settings.ACCOUNT_PREVENT_ENUMERATION and mandatory
    email = emails.normalized(email)
    taken = ApiError(
        400, Code.EMAIL_TAKEN, "A user is already registered with this email address.", "email"
    )
    if password is not None:
        check_new_password(password, User(email=email))
    user = None if emails.owner_address(email) else _create(request, email, password, method)
    if user is None:
        if not hide:
            raise taken
        _hidden_taken(request, email, password, then)
        return
    if mandatory:
        set_pending(request, email_verification.FLOW, user.pk, **_then(then))
        return
    complete_login(request, user=user, record=method_record(Method.PASSWORD, email=email))
