"""Under production settings the browser client works as allauth's SPA ships:
it reads the CSRF token from the cookie named `csrftoken` and sends it back
as X-CSRFToken (allauth's examples/react-spa, `getCSRFToken()`)."""

from __future__ import annotations

import json

from tests.test_deploy_check import production_settings, run

# Runs under config.settings.production, as the SPA would talk to it over
# HTTPS from its own origin. No database needed: the login input is refused
# (400) right after the CSRF check, so a 400 means the check passed.
SPA_POST = """
import json, django
django.setup()
from django.test import Client
host = "signet.example.com"
client = Client(enforce_csrf_checks=True, HTTP_HOST=host)
config = client.get("/_allauth/browser/v1/config", secure=True)
cookie = client.cookies["csrftoken"]
body = json.dumps({"email": "not-an-email", "password": "x"})
def post(headers):
    response = client.post(
        "/_allauth/browser/v1/auth/login", body, content_type="application/json",
        headers={"Origin": "https://" + host, **headers}, secure=True,
    )
    return response.status_code, response.json()["errors"][0]["code"]
print(json.dumps({
    "config": config.status_code,
    "secure": bool(cookie["secure"]),
    "samesite": cookie["samesite"],
    "httponly": bool(cookie["httponly"]),
    "with_token": post({"X-CSRFToken": cookie.value}),
    "without_token": post({}),
    "wrong_token": post({"X-CSRFToken": "x" * 32}),
}))
"""


def test_production_names_the_csrf_cookie_csrftoken():
    values = production_settings()
    assert values["csrf_cookie"] == "csrftoken"
    assert values["session_cookie"] == "__Host-sessionid"


def test_spa_posts_with_the_csrftoken_cookie_under_production_settings():
    result = run(["-c", SPA_POST])
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {
        "config": 200,
        # Readable by the SPA's script, and still Secure and SameSite=Lax.
        "secure": True,
        "samesite": "Lax",
        "httponly": False,
        "with_token": [400, "invalid"],
        "without_token": [403, "csrf_failed"],
        "wrong_token": [403, "csrf_failed"],
    }
