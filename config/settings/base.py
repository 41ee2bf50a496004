"""Settings shared by every environment.

Everything configurable comes from the environment (see README, "Configuration");
local.py, production.py and test.py only change defaults and hardening.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from config.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files as static files: the docs page loads nothing from a CDN.
    "drf_spectacular_sidecar",
    "accounts",
    "accounts.mfa",
    "accounts.tokens",
    "wallets",
]

MIDDLEWARE = [
    # Outermost, so they see every response, redirects and early refusals included.
    "accounts.observability.RequestLogMiddleware",
    "accounts.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "accounts.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # After CORS: a cross-origin client can still read the 413.
    "accounts.security.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.HeadlessClientMiddleware",
    "config.middleware.AdminMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# Persistent connections: opening one per request costs (tests/benchmarks/README.md).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/signet")
}
if env("DATABASE_PASSWORD", default=""):
    # The password may live apart from the URL, as a Docker secret file.
    DATABASES["default"]["PASSWORD"] = env("DATABASE_PASSWORD")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, rate limits, wallet challenges, session reads -----------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every key Signet writes to Redis starts with this, so several deployments
# (or test runs) can share one Redis.
REDIS_KEY_PREFIX = env("REDIS_KEY_PREFIX", default="signet")
_redis_options = {
    "CLIENT_CLASS": "django_redis.client.DefaultClient",
    "SOCKET_CONNECT_TIMEOUT": 1,
    "SOCKET_TIMEOUT": 1,
    # redis-py's default policy retries a refused connection for ~4.5 s; during
    # an outage that would stall every request. One quick retry, then fail.
    "CONNECTION_POOL_KWARGS": {"retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), 1)},
}


def _sentinel_address(entry: str) -> tuple[str, int]:
    """`host:port` (`[v6]:port`) of one sentinel."""
    host, _, port = entry.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(
            f"REDIS_SENTINELS: {entry!r} is not host:port (e.g. sentinel-0:26379)."
        )
    return host.strip("[]"), int(port)


def _sentinel_location(url: str, master: str) -> str:
    """REDIS_URL with the master's name as its host: django-redis's Sentinel
    factory asks the sentinels for that name; credentials and database stay."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{master}" if credentials else master
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


# Redis Sentinel (high availability): REDIS_SENTINELS lists the sentinels
# (host:port, ...) that watch the master named REDIS_SENTINEL_MASTER; every
# connection asks them where the master is, so a failover needs no restart.
# REDIS_URL then gives only the master's password and database number.
REDIS_SENTINELS = [_sentinel_address(s) for s in env.list("REDIS_SENTINELS", default=[])]
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
_redis_location = REDIS_URL
if REDIS_SENTINELS:
    _redis_location = _sentinel_location(REDIS_URL, REDIS_SENTINEL_MASTER)
    _redis_options |= {
        # Reads go to the master too (DefaultClient, one server): django-redis's
        # SentinelClient would read the cache from replicas, where a session
        # just ended on the master may still be found.
        "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        "SENTINELS": REDIS_SENTINELS,
        "SENTINEL_KWARGS": {
            "socket_timeout": 1,
            "socket_connect_timeout": 1,
            "password": env.str("REDIS_SENTINEL_PASSWORD", default="") or None,
        },
    }
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _redis_location,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": _redis_options,
    },
    # Session reads: the database is the truth, Redis a read cache. A Redis
    # outage must not log anybody out, so errors here fall back to the database.
    "sessions": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _redis_location,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {**_redis_options, "IGNORE_EXCEPTIONS": True},
    },
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Sessions ---------------------------------------------------------------
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Authentication ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# ModelBackend with get_user() served from Redis (accounts.usercache).
AUTHENTICATION_BACKENDS = ["accounts.backends.CachedModelBackend"]
# Argon2id first. Parameters chosen by benchmark (README, "Passwords"): at
# OWASP's minimum memory (19 MiB) with t=2, p=1. Older hashes upgrade on login.
PASSWORD_HASHERS = [
    "accounts.hashers.SignetArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("ACCOUNT_PASSWORD_MIN_LENGTH", default=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts (allauth-compatible names) -----------------------------------
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
# The modes of accounts.flows.email_verification.Verification (settings import no app).
if ACCOUNT_EMAIL_VERIFICATION not in ("none", "optional", "mandatory"):
    raise ImproperlyConfigured(
        "ACCOUNT_EMAIL_VERIFICATION must be one of none, optional, mandatory "
        f"(got {ACCOUNT_EMAIL_VERIFICATION!r})."
    )
ACCOUNT_SIGNUP_OPEN = env.bool("ACCOUNT_SIGNUP_OPEN", default=True)
ACCOUNT_PREVENT_ENUMERATION = env.bool("ACCOUNT_PREVENT_ENUMERATION", default=True)
# allauth's "amount/duration/per" strings, e.g. "login=30/m/ip;login_failed=10/m/ip,5/5m/key",
# merged over allauth's defaults; "off" disables every limit.
ACCOUNT_RATE_LIMITS = env.str("ACCOUNT_RATE_LIMITS", default="")
ACCOUNT_EMAIL_VERIFICATION_EXPIRE_DAYS = env.int(
    "ACCOUNT_EMAIL_VERIFICATION_EXPIRE_DAYS", default=3
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)
ACCOUNT_LOGIN_TIMEOUT = env.int("ACCOUNT_LOGIN_TIMEOUT", default=15 * 60)
# Step-up (accounts.flows.reauthentication): sensitive changes need a sign-in or
# reauthentication younger than the timeout. allauth's names; on by default here.
ACCOUNT_REAUTHENTICATION_REQUIRED = env.bool("ACCOUNT_REAUTHENTICATION_REQUIRED", default=True)
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=5 * 60)
# Codes by email (accounts.codes), allauth's names and defaults: login by
# code, and email verification and password reset by code in place of
# links. Each code allows MAX_ATTEMPTS tries within TIMEOUT seconds.
ACCOUNT_LOGIN_BY_CODE_ENABLED = env.bool("ACCOUNT_LOGIN_BY_CODE_ENABLED", default=False)
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = env.int("ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS", default=3)
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env.int("ACCOUNT_LOGIN_BY_CODE_TIMEOUT", default=3 * 60)
# allauth's: a sign-in or reauthentication code may be sent again twice (off by default).
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = env.bool(
    "ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND", default=False
)
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = env.bool(
    "ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED", default=False
)
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS = env.int(
    "ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS", default=3
)
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = env.int(
    "ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT", default=15 * 60
)
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = env.bool(
    "ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED", default=False
)
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = env.int(
    "ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS", default=3
)
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = env.int(
    "ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT", default=3 * 60
)
# Number of reverse proxies in front of Signet whose X-Forwarded-For entries
# are trusted; 0 means the client IP is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
# Mailed links, one URL template per link, as allauth's HEADLESS_FRONTEND_URLS:
# a JSON object, e.g. {"account_confirm_email": "/verify?key={key}"}; a template
# starting with "/" is relative to FRONTEND_URL. Links left out keep the
# defaults of accounts.mail; accounts.checks refuses bad templates.
_FRONTEND_URLS = env.str("HEADLESS_FRONTEND_URLS", default="") or "{}"
try:
    HEADLESS_FRONTEND_URLS = json.loads(_FRONTEND_URLS)
except ValueError as error:
    raise ImproperlyConfigured(f"HEADLESS_FRONTEND_URLS is not valid JSON: {error}.") from None

# --- Second factors (accounts.mfa) -----------------------------------------
# Fernet keys that encrypt TOTP secrets at rest, comma-separated: the first
# encrypts, all decrypt (rotation). Required in production; local and test
# settings derive one from SECRET_KEY when it is unset.
MFA_ENCRYPTION_KEY = env.list("MFA_ENCRYPTION_KEY", default=[])
MFA_RECOVERY_CODE_COUNT = env.int("MFA_RECOVERY_CODE_COUNT", default=10)
# Issuer named in authenticator apps (default: the request's host).
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="")
# WebAuthn (accounts.mfa.webauthn): the RP ID credentials are bound to, and
# the exact origins (scheme://host[:port]) a ceremony may come from. Local
# defaults: FRONTEND_URL's host and origin, plus each WALLET_DOMAINS entry.
# Production requires both.
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="") or (
    urlsplit(FRONTEND_URL).hostname or "localhost"
)
WEBAUTHN_ORIGINS = env.list("WEBAUTHN_ORIGINS", default=[]) or [
    FRONTEND_URL,
    *(
        f"{'http' if d.split(':')[0] in ('localhost', '127.0.0.1') else 'https'}://{d}"
        for d in env.list("WALLET_DOMAINS", default=["localhost:8000"])
    ),
]
# Passkey login (allauth's MFA_PASSKEY_LOGIN_ENABLED): sign in with a
# WebAuthn key alone, user verification required. Off by default, as allauth.
MFA_PASSKEY_LOGIN_ENABLED = env.bool("MFA_PASSKEY_LOGIN_ENABLED", default=False)
# "Trust this browser" (allauth's MFA_TRUST_ENABLED, off by default): after a
# second factor the browser client may answer POST /auth/2fa/trust, and a
# trusted browser skips the second factor for MFA_TRUST_COOKIE_AGE seconds
# (allauth's default: 14 days). The cookie's Domain, Path, Secure, HttpOnly and
# SameSite follow the session cookie's (accounts.mfa.flows.trust reads them
# at request time); MFA_TRUST_COOKIE_{DOMAIN,PATH,SECURE,HTTPONLY,SAMESITE}
# override them, as in allauth.
MFA_TRUST_ENABLED = env.bool("MFA_TRUST_ENABLED", default=False)
MFA_TRUST_COOKIE_AGE = env.int("MFA_TRUST_COOKIE_AGE", default=60 * 60 * 24 * 14)
MFA_TRUST_COOKIE_NAME = env.str("MFA_TRUST_COOKIE_NAME", default="mfa_trusted")
# Passkey signup (allauth's MFA_PASSKEY_SIGNUP_ENABLED): sign up with an email
# address and a passkey, no password. Needs verification by code and mandatory
# verification (accounts.mfa.checks stops start-up otherwise). Off by default.
MFA_PASSKEY_SIGNUP_ENABLED = env.bool("MFA_PASSKEY_SIGNUP_ENABLED", default=False)
# The name authenticators show for the site.
WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="Signet")
# allauth's MFA_WEBAUTHN_USER_VERIFICATION for a second factor; a passkey
# login always requires it.
MFA_WEBAUTHN_USER_VERIFICATION = env.str("MFA_WEBAUTHN_USER_VERIFICATION", default="preferred")
if MFA_WEBAUTHN_USER_VERIFICATION not in ("required", "preferred", "discouraged"):
    raise ImproperlyConfigured(
        "MFA_WEBAUTHN_USER_VERIFICATION must be one of required, preferred, discouraged."
    )


def dev_mfa_key(secret_key: str) -> list[str]:
    """A Fernet key derived from SECRET_KEY: for local and test settings only
    (rotating SECRET_KEY would make every stored TOTP secret unreadable)."""
    import base64
    import hashlib

    digest = hashlib.sha256(b"signet.mfa.encryption:" + secret_key.encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


# --- Tokens (accounts.tokens) ----------------------------------------------
# `session` (allauth's default): the app client holds a session token.
# `jwt`: app-client sign-ins also answer an ES256 access token and a refresh
# token (README, "Tokens (JWT)").
SIGNET_TOKEN_STRATEGY = env.str("SIGNET_TOKEN_STRATEGY", default="session")
if SIGNET_TOKEN_STRATEGY not in ("session", "jwt"):
    raise ImproperlyConfigured("SIGNET_TOKEN_STRATEGY must be session or jwt.")
# PEM P-256 private keys, one after another (or JWT_PRIVATE_KEYS_FILE): the
# first signs, all verify, and all are published at /.well-known/jwks.json.
JWT_PRIVATE_KEYS: list[str] = []
_jwt_pems = env.str("JWT_PRIVATE_KEYS", default="").replace("\\n", "\n")
JWT_ISSUER = env.str("JWT_ISSUER", default="signet")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="signet")
JWT_ACCESS_TOKEN_LIFETIME = env.int("JWT_ACCESS_TOKEN_LIFETIME", default=300)
JWT_REFRESH_TOKEN_LIFETIME = env.int("JWT_REFRESH_TOKEN_LIFETIME", default=30 * 86400)


def split_pems(text: str) -> list[str]:
    """The PEM blocks in one string (a variable or a file may hold several)."""
    marker = "-----END "
    out = []
    while marker in text:
        head, _, tail = text.partition(marker)
        label, _, text = tail.partition("-----")
        out.append(f"{head.strip()}\n{marker}{label}-----")
    return out


JWT_PRIVATE_KEYS = split_pems(_jwt_pems)


def dev_jwt_key(secret_key: str) -> list[str]:
    """A P-256 key derived from SECRET_KEY: local and test settings only. The
    same in every worker process, unlike a key drawn at start."""
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    seed = hashlib.sha256(b"signet.jwt.signing:" + secret_key.encode()).digest()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's n
    key = ec.derive_private_key(int.from_bytes(seed) % (order - 1) + 1, ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return [pem.decode()]


# --- Mail -------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Signet <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Wallets ---------------------------------------------------------------
WALLET_DOMAINS = env.list("WALLET_DOMAINS", default=["localhost:8000"])
WALLET_CHAINS = env.list(
    "WALLET_CHAINS",
    default=["eip155:*", "solana:mainnet", "solana:devnet", "cosmos:cosmoshub-4"],
)
WALLET_CHALLENGE_TTL = env.int("WALLET_CHALLENGE_TTL", default=300)
WALLET_STATEMENT = env.str("WALLET_STATEMENT", default="Sign in to Signet.")
# Off: a client-built message may word its own statement (or have none), as dApps do.
WALLET_STATEMENT_REQUIRED = env.bool("WALLET_STATEMENT_REQUIRED", default=False)
WALLET_EVM_RPC_URLS = env.dict("WALLET_EVM_RPC_URLS", default={})

# --- CORS / CSRF for the browser client -------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/_allauth/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-csrftoken",
    "x-session-token",
    "x-email-verification-key",
    "x-password-reset-key",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = ("x-request-id",)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=CORS_ALLOWED_ORIGINS)

# --- DRF / OpenAPI ----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.drf_auth.AccessTokenAuthentication",
        "accounts.drf_auth.SessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["accounts.security.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Signet API",
    "DESCRIPTION": "Email and wallet sign-in on django-allauth's headless contract.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema is public: a stale X-Session-Token must not turn it into a 410.
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from drf-spectacular-sidecar's static files (pinned by the
    # lock file, served by WhiteNoise): no third party to trust or to reach.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would call out to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- i18n / static ---------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Hardening (accounts.security) ----------------------------------------------
# Bodies above this answer 413 under /_allauth/; JSON deeper than JSON_MAX_DEPTH, 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
_CSP_COMMON = "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
CSP_POLICIES = {
    # Django's admin has no inline script or style (5.x).
    "/admin/": env.str(
        "CSP_ADMIN",
        default="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; {_CSP_COMMON}",
    ),
    # Swagger UI: every file from this origin (the init script is served by the
    # split view, not inline); it injects inline styles, hence 'unsafe-inline' for
    # style-src alone, on a page that renders no user input.
    "/api/docs/": env.str(
        "CSP_DOCS",
        default="default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src 'self'; {_CSP_COMMON}",
    ),
}
# Everything else is JSON: nothing to load, nothing to frame.
CSP_DEFAULT = env.str("CSP_DEFAULT", default="default-src 'none'; frame-ancestors 'none'")

# --- Observability (accounts.metrics, accounts.observability, accounts.audit) ----------
# /metrics answers only a scraper with `Authorization: Bearer <METRICS_TOKEN>` or
# one whose client IP is in METRICS_ALLOWED_NETWORKS (CIDRs); otherwise 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
for _cidr in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_cidr.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_NETWORKS: {_cidr!r} is not a network (e.g. 10.0.0.0/8)."
        ) from None
AUTH_EVENT_RETENTION_DAYS = env.int("AUTH_EVENT_RETENTION_DAYS", default=90)

# One line per request (signet.access) and per auth event (signet.auth) on
# stdout, with the request id; LOG_FORMAT=json in production. The handler's
# filters scrub anything that looks like a secret (accounts.observability).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (got {LOG_FORMAT!r}).")
# django.security loggers for what any client can send; one WARNING line each.
_CLIENT_MISTAKES = ("DisallowedHost", "RequestDataTooBig", "TooManyFieldsSent", "TooManyFilesSent")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "accounts.observability.RequestIdFilter"},
        "redact": {"()": "accounts.observability.RedactFilter"},
        "client_mistake": {"()": "accounts.observability.ClientMistakeFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "accounts.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django logs every 4xx here too; the access line already says it.
        # 5xx (with their traceback) still come through.
        "django.request": {"level": "ERROR"},
        **{f"django.security.{name}": {"filters": ["client_mistake"]} for name in _CLIENT_MISTAKES},
    },
}
