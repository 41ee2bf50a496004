"""Transactional mail: plain text + HTML from templates, links to FRONTEND_URL.

A mail that cannot be handed to the mail server (refused connection,
timeout, SMTP error) answers 503 `service_unavailable`, never 500. The rule
for what it leaves behind: nothing. Flows send inside the transaction of
the write the mail belongs to (a signup's user, an added address), so the
write rolls back with it and the client simply retries.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.api.errors import ApiError, Code

logger = logging.getLogger(__name__)


class Template:
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"
    PASSWORD_RESET_UNKNOWN = "password_reset_unknown"
    ACCOUNT_EXISTS = "account_exists"
    ADDRESS_CLAIMED = "address_claimed"  # someone tried to add an address its owner holds


class FrontendPath:
    VERIFY_EMAIL = "/account/verify-email/{key}"
    PASSWORD_RESET = "/account/password/reset/key/{key}"
    PASSWORD_RESET_REQUEST = "/account/password/reset"
    LOGIN = "/account/login"


def frontend_url(path: str, **kwargs: str) -> str:
    return settings.FRONTEND_URL + path.format(**kwargs)


def send(template: str, to: str, context: dict) -> None:
    context = {"frontend_url": settings.FRONTEND_URL, "email": to, **context}
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
