"""Transactional mail: plain text + HTML from templates, with links to the front end.

Every mailed link is a URL template, configured per link as allauth's
HEADLESS_FRONTEND_URLS: `{key}` marks where the key goes, and a template that
starts with "/" is relative to FRONTEND_URL. Links not configured keep the
paths below. accounts.checks refuses a bad template at start-up.

A mail that cannot be handed to the mail server (refused connection,
timeout, SMTP error) answers 503 `service_unavailable`, never 500. The rule
for what it leaves behind: nothing. Flows send inside the transaction of
the write the mail belongs to (a signup's user, an added address), so the
write rolls back with it and the client simply retries.
"""

from __future__ import annotations

import logging
import string
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.errors import ApiError, Code

logger = logging.getLogger(__name__)


class Template:
    VERIFY_EMAIL = "verify_email"
    VERIFY_EMAIL_CODE = "verify_email_code"  # ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED
    PASSWORD_RESET = "password_reset"
    PASSWORD_RESET_UNKNOWN = "password_reset_unknown"
    ACCOUNT_EXISTS = "account_exists"
    ADDRESS_CLAIMED = "address_claimed"  # someone tried to add an address its owner holds
    LOGIN_CODE = "login_code"  # a sign-in or reauthentication code (accounts.flows.login_by_code)
    LOGIN_CODE_UNKNOWN = "login_code_unknown"
    PASSWORD_RESET_CODE = "password_reset_code"


class FrontendPath:
    """The mailed links, by their name in HEADLESS_FRONTEND_URLS (allauth's names)."""

    VERIFY_EMAIL = "account_confirm_email"
    PASSWORD_RESET = "account_reset_password_from_key"
    PASSWORD_RESET_REQUEST = "account_reset_password"
    SIGNUP = "account_signup"
    LOGIN = "account_login"  # Signet's: the "account already exists" mail links to it


# The front end's routes as allauth's React SPA names them.
DEFAULT_FRONTEND_URLS = {
    FrontendPath.VERIFY_EMAIL: "/account/verify-email/{key}",
    FrontendPath.PASSWORD_RESET: "/account/password/reset/key/{key}",
    FrontendPath.PASSWORD_RESET_REQUEST: "/account/password/reset",
    FrontendPath.SIGNUP: "/account/signup",
    FrontendPath.LOGIN: "/account/login",
}
# The placeholders each link's template must hold (and the only ones it may).
PLACEHOLDERS = {
    FrontendPath.VERIFY_EMAIL: {"key"},
    FrontendPath.PASSWORD_RESET: {"key"},
}


def url_template(link: str) -> str:
    return {**DEFAULT_FRONTEND_URLS, **settings.HEADLESS_FRONTEND_URLS}[link]


def placeholders(template: str) -> list[str]:
    """The fields of a str.format template as written (`key`, `key!r`, `0`...);
    ValueError when it is malformed."""
    return [
        field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        for _, field, spec, conversion in string.Formatter().parse(template)
        if field is not None
    ]


def render_url(template: str, **kwargs: str) -> str:
    # Keys are URL-safe already (signed base64 and ":", base36 and "-"); quote
    # them anyway so a template may put one in a path or a query alike.
    url = template.format(**{name: quote(value, safe=":") for name, value in kwargs.items()})
    return settings.FRONTEND_URL + url if url.startswith("/") else url


def frontend_url(link: str, **kwargs: str) -> str:
    return render_url(url_template(link), **kwargs)


def send(template: str, to: str, context: dict) -> None:
    context = {"frontend_url": settings.FRONTEND_URL, "email": to, **context}
    if settings.ACCOUNT_SIGNUP_OPEN:
        context.setdefault("signup_link", frontend_url(FrontendPath.SIGNUP))
    base = f"accounts/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    text = render_to_string(f"{base}_message.txt", context)
    html = render_to_string(f"{base}_message.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    deliver(message)


def deliver(message: EmailMultiAlternatives) -> None:
    """Send, or 503 when the mail server cannot take it (see the module doc)."""
    try:
        message.send()
    except OSError as exc:  # smtplib.SMTPException is one, as are refusals and timeouts
        logger.error("mail not sent: %s", exc.__class__.__name__)
        raise ApiError(
            503, Code.SERVICE_UNAVAILABLE, "Mail cannot be sent right now; try again shortly."
        ) from None
