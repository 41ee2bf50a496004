"""Settings for the test suite: the machine's real PostgreSQL and Redis.

Every run gets its own database (pytest-django creates test_<NAME>, with a
-gwN suffix per xdist worker) and its own Redis key prefix, which
tests/conftest.py empties between tests and removes at the end.
"""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, dev_jwt_key, dev_mfa_key, env

_run = os.environ.setdefault("SIGNET_TEST_RUN", str(os.getpid()))

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
MFA_ENCRYPTION_KEY = dev_mfa_key(SECRET_KEY)
JWT_PRIVATE_KEYS = dev_jwt_key(SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
DATABASES["default"] = env.db_url(
    "TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASES["default"]["TEST"] = {"NAME": f"test_signet_{_run}"}
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/13")
REDIS_KEY_PREFIX = f"signet-test-{_run}"
for _cache in CACHES.values():
    _cache["LOCATION"] = REDIS_URL
    _cache["KEY_PREFIX"] = REDIS_KEY_PREFIX

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FRONTEND_URL = "https://app.example.com"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_RATE_LIMITS = ""
WALLET_DOMAINS = ["app.example.com", "localhost:3000"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WEBAUTHN_RP_ID = "app.example.com"
WEBAUTHN_ORIGINS = ["https://app.example.com"]
