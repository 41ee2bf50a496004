"""Email + password signup, with allauth's enumeration-safe behaviour.

When verification is mandatory, a taken address answers exactly like a fresh
signup (401, `verify_email` pending) and its owner gets an "account already
exists" mail instead; both paths hash the password and send one mail, so they
also take about the same time. Without mandatory verification a fresh signup
logs straight in, which cannot be faked, so a taken address is 400 `email_taken`
(as in allauth).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from accounts import mail
from accounts.api.errors import ApiError, Code
from accounts.flows import email_verification
from accounts.flows.authentication import Method, complete_login, method_record, set_pending
from accounts.flows.passwords import check_new_password
from accounts.models import EmailAddress, User
from accounts.signals import Event, emit


def email_in_use(email: str) -> bool:
    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def _hidden_taken(request: HttpRequest, email: str, password: str) -> None:
    make_password(password)  # same cost as a real signup
    mail.send(
        mail.Template.ACCOUNT_EXISTS,
        email,
        {
            "login_link": mail.frontend_url(mail.FrontendPath.LOGIN),
            "reset_link": mail.frontend_url(mail.FrontendPath.PASSWORD_RESET_REQUEST),
        },
    )
    set_pending(request, email_verification.FLOW, None)


def _create(email: str, password: str) -> tuple[User, EmailAddress] | None:
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            address = EmailAddress.objects.create(user=user, email=user.email, primary=True)
    except IntegrityError:
        return None  # lost a race for the same address
    return user, address


def signup(request: HttpRequest, *, email: str, password: str) -> None:
    """Sign up; afterwards the session is logged in or awaits verification."""
    mandatory = settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    hide = settings.ACCOUNT_PREVENT_ENUMERATION and mandatory
    email = User.objects.normalize_email(email)
    taken = ApiError(
        400, Code.EMAIL_TAKEN, "A user is already registered with this email address.", "email"
    )
    check_new_password(password, User(email=email))
    created = None if email_in_use(email) else _create(email, password)
    if created is None:
        if not hide:
            raise taken
        _hidden_taken(request, email, password)
        return
    user, address = created
    emit(request, Event.SIGNUP, user=user, method="password")
    if settings.ACCOUNT_EMAIL_VERIFICATION != "none":
        email_verification.send_verification(request, address, limited=False)
    if mandatory:
        set_pending(request, email_verification.FLOW, user.pk)
        return
    complete_login(request, user=user, record=method_record(Method.PASSWORD, email=user.email))
