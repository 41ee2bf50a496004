"""Production settings: `manage.py check --deploy` has nothing to say, and the
hardening choices hold under a production-like environment."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Variables a developer's shell might carry into the child and skew the result.
_OWN_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "METRICS_",
    "LOG_",
    "CSP_",
    "CORS_",
    "CSRF_",
    "PROMETHEUS_",
    "EMAIL_",
    "WALLET_",
    "FRONTEND_",
    "WEBAUTHN_",
)


def production_env(**extra: str | None) -> dict[str, str]:
    """A complete production environment; `NAME=None` leaves NAME unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env["MFA_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="signet.example.com",
        WALLET_DOMAINS="app.example.com",
        FRONTEND_URL="https://app.example.com",
        WEBAUTHN_RP_ID="app.example.com",
        WEBAUTHN_ORIGINS="https://app.example.com",
        EMAIL_URL="smtp+tls://signet@smtp.example.com:587",
        DATABASE_URL="postgres://signet@127.0.0.1:5432/signet",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], **extra: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "session_cookie": s.SESSION_COOKIE_NAME,
    "csrf_cookie": s.CSRF_COOKIE_NAME,
    "csrf_domain": s.CSRF_COOKIE_DOMAIN,
    "proxy_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "log_format": s.LOGGING["handlers"]["console"]["formatter"],
    "metrics_token": s.METRICS_TOKEN,
    "metrics_networks": s.METRICS_ALLOWED_NETWORKS,
    "redirect_exempt": s.SECURE_REDIRECT_EXEMPT,
    "email_backend": s.EMAIL_BACKEND,
    "wallet_domains": s.WALLET_DOMAINS,
}))
"""


def production_settings(**extra: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_has_zero_warnings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_defaults():
    assert production_settings() == {
        "session_cookie": "__Host-sessionid",
        "csrf_cookie": "csrftoken",
        "csrf_domain": None,
        "proxy_header": None,
        "log_format": "json",
        "metrics_token": "",
        "metrics_networks": [],
        "redirect_exempt": [r"^health(/live)?$", r"^metrics$"],
        "email_backend": "django.core.mail.backends.smtp.EmailBackend",
        "wallet_domains": ["app.example.com"],
    }


def test_proxy_header_and_metrics_only_when_configured():
    values = production_settings(
        DJANGO_SECURE_PROXY_SSL_HEADER="true",
        METRICS_TOKEN="m" * 32,
        METRICS_ALLOWED_NETWORKS="10.0.0.0/8,fd00::/8",
    )
    assert values["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["metrics_token"] == "m" * 32
    assert values["metrics_networks"] == ["10.0.0.0/8", "fd00::/8"]


def test_a_shared_csrf_cookie_keeps_its_name():
    values = production_settings(DJANGO_CSRF_COOKIE_DOMAIN=".example.com")
    assert (values["csrf_cookie"], values["csrf_domain"]) == ("csrftoken", ".example.com")
    assert values["session_cookie"] == "__Host-sessionid"
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"DJANGO_CSRF_COOKIE_DOMAIN": ".example.com", "DJANGO_CSRF_COOKIE_NAME": "__Host-x"},
            "a __Host- cookie cannot have a Domain",
        ),
        ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/33"}, "METRICS_ALLOWED_NETWORKS"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be plain or json"),
        # An empty secret key used to start, then every signup answered 500.
        ({"DJANGO_SECRET_KEY": ""}, "Set the DJANGO_SECRET_KEY environment variable (it is empty)"),
        ({"DJANGO_SECRET_KEY": "  "}, "Set the DJANGO_SECRET_KEY environment variable"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "Set the DJANGO_ALLOWED_HOSTS environment variable"),
        # Used to fall back to localhost:8000 silently: no real dApp could sign in.
        ({"WALLET_DOMAINS": None}, "Set the WALLET_DOMAINS environment variable"),
        ({"WALLET_DOMAINS": ""}, "Set the WALLET_DOMAINS environment variable"),
        ({"FRONTEND_URL": None}, "Set the FRONTEND_URL environment variable"),
        # Used to print every reset and verification link to stdout.
        ({"EMAIL_URL": None}, "Set the EMAIL_URL environment variable"),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_CONSOLE_IN_PRODUCTION=true"),
        ({"EMAIL_URL": "filemail:///tmp/mail"}, "not filemail://"),
        ({"EMAIL_URL": "dummymail://"}, "not dummymail://"),
        (
            {"EMAIL_URL": "smtp://h:25", "EMAIL_CONSOLE_IN_PRODUCTION": "true"},
            None,
        ),
    ],
)
def test_misconfiguration_is_a_clear_start_up_error(extra, message):
    result = run(["manage.py", "check"], **extra)
    if message is None:  # the opt-out changes nothing when mail goes over SMTP
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    assert message in result.stderr


def test_mail_in_production_goes_to_the_log_only_when_asked_and_without_keys():
    """EMAIL_CONSOLE_IN_PRODUCTION: the mail is logged, its keys are not."""
    send = """
import django
django.setup()
from django.conf import settings
from django.core.mail import send_mail
print(settings.EMAIL_BACKEND, flush=True)
send_mail("Reset your password", "Choose one: https://app.example.com/account/password/reset/"
          "key/3f-cz1q2w-0123456789abcdef0123456789abcdef and "
          "https://app.example.com/account/verify-email/.eJyrVkpUslIyNDJS0lFKVbJKTUnN:1uA2bC:"
          "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde", None, ["bob@example.com"])
"""
    result = run(["-c", send], EMAIL_URL="consolemail://", EMAIL_CONSOLE_IN_PRODUCTION="true")
    assert result.returncode == 0, result.stderr
    backend, *lines = result.stdout.strip().splitlines()
    assert backend == "config.mail.LogEmailBackend"
    entries = [json.loads(line) for line in lines]
    (entry,) = [e for e in entries if e["logger"] == "signet.mail"]
    assert entry["message"].startswith("mail not sent (EMAIL_CONSOLE_IN_PRODUCTION) to bob@")
    assert "Reset your password" in entry["message"]
    assert "0123456789abcdef0123456789abcdef" not in result.stdout
    assert "eJyrVkpUslIyNDJS0lFKVbJKTUnN" not in result.stdout
    assert "/account/password/reset/key/[redacted]" in entry["message"]


def test_the_wsgi_server_refuses_to_start_on_a_failing_check():
    """gunicorn loads config.wsgi, which runs the system checks that only
    manage.py ran before: a bad mailed-link template stops start-up."""
    gunicorn = [str(Path(sys.executable).with_name("gunicorn")), "--check-config"]
    ok = subprocess.run(
        [*gunicorn, "-c", "docker/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "django.core.checks" not in ok.stdout + ok.stderr  # production has nothing to say
    bad = subprocess.run(
        [*gunicorn, "-c", "docker/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=production_env(HEADLESS_FRONTEND_URLS='{"account_confirm_email": "/v/{nokey}"}'),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0
    assert "System checks failed" in bad.stderr and "accounts.E002" in bad.stderr
