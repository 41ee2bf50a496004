"""Every mailed link is a URL template per link (allauth's HEADLESS_FRONTEND_URLS),
and a template that would mail unusable links is refused at start-up."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import override_settings

from accounts.checks import frontend_urls
from tests.conftest import PASSWORD
from tests.test_deploy_check import run

NEW = {"email": "new@example.com", "password": PASSWORD}


def _links(message) -> list[str]:
    """Every link of a mail, from its text and its HTML alternative (which must agree)."""
    text = re.findall(r"^(https?://\S+)$", message.body, re.M)
    html = re.findall(r'href="([^"]+)"', message.alternatives[0][0])
    assert [h.replace("&amp;", "&") for h in html] == text
    return text


def _key(link: str, template_re: str) -> str:
    match = re.fullmatch(template_re, link)
    assert match, link
    return match.group(1)


# --- Mails with configured templates ---------------------------------------------


@override_settings(
    HEADLESS_FRONTEND_URLS={"account_confirm_email": "https://id.example.org/confirm?key={key}&x=1"}
)
def test_verification_link_follows_its_template_and_its_key_verifies(headless):
    assert headless.post("/auth/signup", NEW).status_code == HTTPStatus.UNAUTHORIZED
    (link,) = _links(mail.outbox[-1])
    key = _key(link, r"https://id\.example\.org/confirm\?key=([^&]+)&x=1")
    response = headless.post("/auth/email/verify", {"key": key})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["data"]["user"]["email"] == NEW["email"]


@override_settings(HEADLESS_FRONTEND_URLS={"account_reset_password_from_key": "/reset/{key}/now"})
def test_reset_link_is_relative_to_frontend_url_and_its_key_resets(headless, user):
    response = headless.post("/auth/password/request", {"email": user.email})
    assert response.status_code == HTTPStatus.OK
    (link,) = _links(mail.outbox[-1])
    key = _key(link, r"https://app\.example\.com/reset/([^/]+)/now")
    response = headless.post("/auth/password/reset", {"key": key, "password": "a new passphrase 9"})
    assert response.status_code == HTTPStatus.UNAUTHORIZED  # reset; sign in again
    user.refresh_from_db()
    assert user.check_password("a new passphrase 9")


@override_settings(
    HEADLESS_FRONTEND_URLS={
        "account_login": "https://app.example.com/#/in",
        "account_reset_password": "/#/forgot",
    }
)
def test_account_exists_mail_links_follow_their_templates(headless, user):
    # Mandatory verification: a taken address answers as a fresh signup and mails its owner.
    response = headless.post("/auth/signup", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert mail.outbox[-1].to == [user.email]
    assert _links(mail.outbox[-1]) == [
        "https://app.example.com/#/in",
        "https://app.example.com/#/forgot",
    ]


@override_settings(HEADLESS_FRONTEND_URLS={"account_signup": "https://join.example.net/"})
def test_unknown_account_mail_offers_the_signup_link_while_signup_is_open(headless, settings):
    headless.post("/auth/password/request", {"email": "nobody@example.com"})
    assert _links(mail.outbox[-1]) == ["https://join.example.net/"]
    settings.ACCOUNT_SIGNUP_OPEN = False
    headless.post("/auth/password/request", {"email": "nobody.else@example.com"})
    assert _links(mail.outbox[-1]) == []


def test_default_links_are_todays_paths(headless, user):
    headless.post("/auth/signup", NEW)
    headless.post("/auth/password/request", {"email": user.email})
    verify, reset = (_links(m)[0] for m in mail.outbox[-2:])
    assert re.fullmatch(r"https://app\.example\.com/account/verify-email/[\w:-]+", verify)
    assert re.fullmatch(r"https://app\.example\.com/account/password/reset/key/[\w:-]+", reset)


# --- Start-up checks -------------------------------------------------------------


def _errors(templates) -> list[str]:
    with override_settings(HEADLESS_FRONTEND_URLS=templates):
        return [f"{m.id} {m.msg}" for m in frontend_urls()]


def test_the_defaults_and_good_templates_pass():
    assert _errors({}) == []
    assert (
        _errors(
            {
                "account_confirm_email": "https://x.example/v?k={key}",
                "account_reset_password_from_key": "/r/{key}",
                "account_signup": "/join",
                "account_reset_password": "/{{literal}}",
            }
        )
        == []
    )


@pytest.mark.parametrize(
    ("templates", "message"),
    [
        (
            {"account_confirm_email": "/account/verify-email/"},
            "accounts.E002 HEADLESS_FRONTEND_URLS['account_confirm_email'] must contain {key}, "
            "where the mailed link carries the key, and no other placeholder: "
            "'/account/verify-email/'.",
        ),
        (
            {"account_reset_password_from_key": "/reset/{token}"},
            "['account_reset_password_from_key'] must contain {key}, where the mailed link "
            "carries the key, and no other placeholder (found token)",
        ),
        ({"account_confirm_email": "/v/{key}/{uid}"}, "no other placeholder (found key, uid)"),
        ({"account_confirm_email": "/v/{key!r}"}, "no other placeholder (found key!r)"),
        (
            {"account_confirm_email": "/v/{key.__class__}"},
            "no other placeholder (found key.__class__)",
        ),
        ({"account_signup": "/join/{key}"}, "may hold no placeholder (found key)"),
        ({"account_signup": "/join/{"}, "write a literal brace as {{ or }}"),
        ({"account_signup": "join"}, "must start with / (relative to FRONTEND_URL)"),
        ({"account_signup": "javascript:alert(1)"}, "or be an absolute http(s) URL"),
        ({"account_signup": 42}, "must be a string URL template"),
        ({"acount_signup": "/join"}, "['acount_signup']: unknown link (known: account_confirm"),
        (["/join"], "accounts.E001 HEADLESS_FRONTEND_URLS must be a JSON object"),
    ],
)
def test_bad_templates_are_refused(templates, message):
    errors = _errors(templates)
    assert len(errors) == 1 and message in errors[0], errors


def test_a_template_without_key_stops_start_up():
    """From the environment, as a deployment configures it: `manage.py check`
    (and `migrate`, which the image runs on start) refuse it by name."""
    result = run(
        ["manage.py", "check"], HEADLESS_FRONTEND_URLS='{"account_confirm_email": "/verify"}'
    )
    assert result.returncode != 0
    assert "HEADLESS_FRONTEND_URLS['account_confirm_email'] must contain {key}" in result.stderr


def test_malformed_json_stops_start_up():
    result = run(["manage.py", "check"], HEADLESS_FRONTEND_URLS="{account_confirm_email: 1}")
    assert result.returncode != 0
    assert "HEADLESS_FRONTEND_URLS is not valid JSON" in result.stderr


def test_templates_from_the_environment_are_used():
    script = (
        "import django; django.setup(); from accounts import mail; "
        "print(mail.frontend_url(mail.FrontendPath.VERIFY_EMAIL, key='K:1-2'))"
    )
    result = run(
        ["-c", script],
        FRONTEND_URL="https://app.example.com",
        HEADLESS_FRONTEND_URLS='{"account_confirm_email": "/c?key={key}"}',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://app.example.com/c?key=K:1-2"]
