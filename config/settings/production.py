"""Production: every secret from the environment (or a *_FILE), HTTPS only.

`manage.py check --deploy` passes with zero warnings under these settings.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: a clear start-up error names it
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Encrypts TOTP secrets at rest; never derived from SECRET_KEY here. No default.
MFA_ENCRYPTION_KEY = env.list("MFA_ENCRYPTION_KEY")
if not MFA_ENCRYPTION_KEY:
    raise ImproperlyConfigured("Set the MFA_ENCRYPTION_KEY environment variable.")

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
# `__Host-` cookies are Secure, Path=/ and host-only: no sibling subdomain can
# set or shadow them. The SPA reads the CSRF cookie by this name. An SPA on a
# sibling subdomain needs the CSRF cookie shared through a Domain
# (DJANGO_CSRF_COOKIE_DOMAIN), and a cookie with a Domain may only be `__Secure-`.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_DOMAIN = env.str("DJANGO_CSRF_COOKIE_DOMAIN", default="") or None
SESSION_COOKIE_NAME = env.str("DJANGO_SESSION_COOKIE_NAME", default="__Host-sessionid")
CSRF_COOKIE_NAME = env.str(
    "DJANGO_CSRF_COOKIE_NAME",
    default="__Secure-csrftoken" if CSRF_COOKIE_DOMAIN else "__Host-csrftoken",
)
if CSRF_COOKIE_DOMAIN and CSRF_COOKIE_NAME.startswith("__Host-"):
    raise ImproperlyConfigured(
        "DJANGO_CSRF_COOKIE_NAME: a __Host- cookie cannot have a Domain; "
        "use a __Secure- name with DJANGO_CSRF_COOKIE_DOMAIN."
    )
X_FRAME_OPTIONS = "DENY"

# One JSON object per line for the log collector (config.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
