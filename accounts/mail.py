"""Transactional mail: plain text + HTML from templates, links to FRONTEND_URL."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


class Template:
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"
    PASSWORD_RESET_UNKNOWN = "password_reset_unknown"
    ACCOUNT_EXISTS = "account_exists"


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
    message.send()
