"""Local development: `manage.py runserver` starts with no configuration at all.

With no DATABASE_URL the database is a SQLite file, for a first look only;
set DATABASE_URL to PostgreSQL for real work (the tests always use PostgreSQL).
Without a reachable Redis, sessions still work (the database is the truth),
rate limits fail open with a warning, and wallet challenges answer 503.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import (
    BASE_DIR,
    DATABASES,
    JWT_PRIVATE_KEYS,
    LOGGING,
    MFA_ENCRYPTION_KEY,
    dev_jwt_key,
    dev_mfa_key,
    env,
)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="insecure-local-development-key-never-use-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
MFA_ENCRYPTION_KEY = MFA_ENCRYPTION_KEY or dev_mfa_key(SECRET_KEY)
JWT_PRIVATE_KEYS = JWT_PRIVATE_KEYS or dev_jwt_key(SECRET_KEY)
DATABASES["default"] = env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
if env("DATABASE_PASSWORD", default=""):
    DATABASES["default"]["PASSWORD"] = env("DATABASE_PASSWORD")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Django's debug pages style themselves inline: no CSP on them while developing.
CSP_DEFAULT = env.str("CSP_DEFAULT", default="")
# runserver writes its own access line; Signet's (accounts.observability) says more.
LOGGING["loggers"]["django.server"] = {"level": "ERROR"}
