"""Production: every secret from the environment (or a *_FILE), HTTPS only.

`manage.py check --deploy` passes with zero warnings under these settings.
What a deployment must decide (the secret key, its hosts, the wallet domains,
where mail goes) has no default here: a start-up error names the variable.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, env

DEBUG = False


def _required(name: str, value):
    """An empty value is as unset: `DJANGO_SECRET_KEY=` would sign sessions with ''."""
    if not value or (isinstance(value, str) and not value.strip()):
        raise ImproperlyConfigured(f"Set the {name} environment variable (it is empty).")
    return value


# No defaults: unset, django-environ's error names the variable; empty, ours does.
SECRET_KEY = _required("DJANGO_SECRET_KEY", env("DJANGO_SECRET_KEY"))
ALLOWED_HOSTS = _required("DJANGO_ALLOWED_HOSTS", env.list("DJANGO_ALLOWED_HOSTS"))
# The host[:port] wallets sign for; localhost would let no real dApp sign in.
WALLET_DOMAINS = _required("WALLET_DOMAINS", env.list("WALLET_DOMAINS"))
FRONTEND_URL = _required("FRONTEND_URL", env.str("FRONTEND_URL")).rstrip("/")

# Mail carries reset and verification links: a deployment either delivers it
# (SMTP) or says it means not to. EMAIL_CONSOLE_IN_PRODUCTION=true with
# EMAIL_URL=consolemail:// writes each mail to the log instead, where the
# redaction filter removes every key and link key from it (config.mail).
_SMTP_SCHEMES = ("smtp", "smtps", "smtp+tls", "smtp+ssl")
_email_scheme = _required("EMAIL_URL", env.str("EMAIL_URL")).partition("://")[0]
if _email_scheme == "consolemail" and env.bool("EMAIL_CONSOLE_IN_PRODUCTION", default=False):
    EMAIL_BACKEND = "config.mail.LogEmailBackend"
elif _email_scheme not in _SMTP_SCHEMES:
    raise ImproperlyConfigured(
        f"EMAIL_URL: production sends mail over SMTP (smtp+tls://user@host:587), not "
        f"{_email_scheme}://; to log mail without its links instead, set "
        "EMAIL_URL=consolemail:// and EMAIL_CONSOLE_IN_PRODUCTION=true."
    )
# Encrypts TOTP secrets at rest; never derived from SECRET_KEY here. No default.
MFA_ENCRYPTION_KEY = _required("MFA_ENCRYPTION_KEY", env.list("MFA_ENCRYPTION_KEY"))
# Passkeys are bound to these for good: no guess from FRONTEND_URL here.
WEBAUTHN_RP_ID = _required("WEBAUTHN_RP_ID", env.str("WEBAUTHN_RP_ID"))
WEBAUTHN_ORIGINS = _required("WEBAUTHN_ORIGINS", env.list("WEBAUTHN_ORIGINS"))
# Signs access tokens; never derived from SECRET_KEY here.
if SIGNET_TOKEN_STRATEGY == "jwt":  # noqa: F405
    _required("JWT_PRIVATE_KEYS", JWT_PRIVATE_KEYS)  # noqa: F405

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Only trust X-Forwarded-Proto when told the proxy in front sets it.
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health/live, /health and /metrics are reached over plain HTTP inside the
# network (probes, Prometheus); /metrics still needs its token or network.
SECURE_REDIRECT_EXEMPT = [r"^health(/live)?$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The session cookie is `__Host-`: Secure, Path=/ and host-only, so no
# sibling subdomain can set or shadow it. The CSRF cookie keeps Django's name,
# `csrftoken`, because allauth's SPA (and Django's own docs) read the token
# from the cookie of that name; it is Secure and SameSite=Lax all the same. A
# cookie a sibling subdomain plants under that name cannot forge a request:
# over HTTPS Django also checks Origin/Referer against CSRF_TRUSTED_ORIGINS.
# An SPA on a sibling subdomain needs the CSRF cookie shared through a Domain
# (DJANGO_CSRF_COOKIE_DOMAIN); a __Host- name can have none.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_DOMAIN = env.str("DJANGO_CSRF_COOKIE_DOMAIN", default="") or None
SESSION_COOKIE_NAME = env.str("DJANGO_SESSION_COOKIE_NAME", default="__Host-sessionid")
CSRF_COOKIE_NAME = env.str("DJANGO_CSRF_COOKIE_NAME", default="csrftoken")
if CSRF_COOKIE_DOMAIN and CSRF_COOKIE_NAME.startswith("__Host-"):
    raise ImproperlyConfigured(
        "DJANGO_CSRF_COOKIE_NAME: a __Host- cookie cannot have a Domain; "
        "use another name (e.g. csrftoken) with DJANGO_CSRF_COOKIE_DOMAIN."
    )
X_FRAME_OPTIONS = "DENY"

# One JSON object per line for the log collector (accounts.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
