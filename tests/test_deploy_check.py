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
)


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env["MFA_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="signet.example.com",
        DATABASE_URL="postgres://signet@127.0.0.1:5432/signet",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **extra,
    )
    return env


def run(args: list[str], **extra: str) -> subprocess.CompletedProcess:
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
        "csrf_cookie": "__Host-csrftoken",
        "csrf_domain": None,
        "proxy_header": None,
        "log_format": "json",
        "metrics_token": "",
        "metrics_networks": [],
        "redirect_exempt": [r"^health(/live)?$", r"^metrics$"],
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


def test_a_shared_csrf_cookie_falls_back_to_secure_prefix():
    values = production_settings(DJANGO_CSRF_COOKIE_DOMAIN=".example.com")
    assert (values["csrf_cookie"], values["csrf_domain"]) == ("__Secure-csrftoken", ".example.com")
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
    ],
)
def test_misconfiguration_is_a_clear_start_up_error(extra, message):
    result = run(["manage.py", "check"], **extra)
    assert result.returncode != 0
    assert message in result.stderr
