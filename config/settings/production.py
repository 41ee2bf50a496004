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

# One JSON object per line for the log collector (config.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
