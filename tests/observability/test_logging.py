"""Logs: a request id on every line, one access line per request, one line
per auth event, JSON in production, and never a secret (driven end to end)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from eth_account import Account
from eth_account.messages import encode_defunct

from accounts.observability import JsonFormatter, RedactFilter, request_id_var
from tests.accounts.helpers import key_from_mail
from tests.conftest import PASSWORD

HEX32 = re.compile(r"^[0-9a-f]{32}$")

Lines = Callable[[], list[str]]


def _console() -> logging.Handler:
    return next(h for h in logging.getLogger().handlers if h.name == "console")


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """What the configured stdout handler writes (filters and all), at DEBUG."""
    handler, root = _console(), logging.getLogger()
    stream, level = io.StringIO(), root.level
    old_stream = handler.setStream(stream)
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        root.setLevel(level)
        handler.setStream(old_stream)


@pytest.fixture
def json_lines(log_lines: Lines) -> Iterator[Callable[[], list[dict]]]:
    handler = _console()
    formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        yield lambda: [json.loads(line) for line in log_lines()]
    finally:
        handler.setFormatter(formatter)


def access(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["logger"] == "signet.access"]


# --- Request id -----------------------------------------------------------------


@pytest.mark.django_db
def test_request_id_is_generated_and_echoed(json_lines):
    response = Client().get("/health/live")
    request_id = response["X-Request-ID"]
    assert HEX32.match(request_id)
    [line] = access(json_lines())
    assert line["request_id"] == request_id


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["abc-123", "nginx.7f3a_B", "a" * 64])
def test_a_sane_request_id_is_kept(json_lines, given):
    response = Client(headers={"X-Request-ID": given}).get("/health/live")
    assert response["X-Request-ID"] == given
    assert access(json_lines())[0]["request_id"] == given


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["a" * 65, "has space", "<script>", "ä", "a\\nb"])
def test_an_odd_request_id_is_replaced(json_lines, given):
    response = Client(headers={"X-Request-ID": given}).get("/health/live")
    assert HEX32.match(response["X-Request-ID"])
    assert given not in "\n".join(json.dumps(e) for e in json_lines())


def test_no_request_id_outside_a_request():
    assert request_id_var.get() == "-"


# --- Access and auth lines ------------------------------------------------------


def test_access_line(json_lines, headless, user, client_kind):
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    entries = json_lines()
    [line] = [e for e in access(entries) if e["method"] == "POST"]
    assert line == {
        "time": line["time"],
        "level": "INFO",
        "logger": "signet.access",
        "message": line["message"],
        "request_id": response["X-Request-ID"],
        "method": "POST",
        "path": f"/_allauth/{client_kind}/v1/auth/login",
        "route": f"_allauth/{client_kind}/v1/auth/login",
        "status": 200,
        "duration_ms": line["duration_ms"],
        "client_ip": "203.0.113.7",
        "user_id": user.pk,
    }
    assert line["duration_ms"] > 0
    [event] = [e for e in entries if e["logger"] == "signet.auth"]
    assert event["request_id"] == response["X-Request-ID"]
    assert (event["event"], event["outcome"], event["method"], event["user_id"]) == (
        "login",
        "success",
        "password",
        user.pk,
    )


def test_failed_login_is_a_warning_without_the_email(json_lines, headless, user):
    headless.post("/auth/login", {"email": user.email, "password": "not the password"})
    [event] = [e for e in json_lines() if e["logger"] == "signet.auth"]
    assert (event["level"], event["event"], event["outcome"]) == (
        "WARNING",
        "login_failed",
        "failure",
    )
    assert user.email not in json.dumps(event)


@pytest.mark.django_db
def test_the_query_string_is_never_logged(json_lines):
    Client().get("/_allauth/app/v1/config?key=abc123secret&token=t0k3n")
    text = "\n".join(json.dumps(e) for e in json_lines())
    assert "/_allauth/app/v1/config" in text
    assert "abc123secret" not in text and "t0k3n" not in text


@pytest.mark.django_db
def test_plain_format_carries_the_request_id(log_lines):
    response = Client().get("/health/live")
    [line] = [line for line in log_lines() if "signet.access" in line]
    assert f"[{response['X-Request-ID']}]" in line
    assert "GET /health/live 200" in line


@pytest.mark.django_db
def test_4xx_are_not_logged_twice(log_lines):
    Client().get("/_allauth/app/v1/nowhere")
    assert not [line for line in log_lines() if "django.request" in line]


# --- No secrets -------------------------------------------------------------------


def _wallet_sign_in(headless) -> str:
    account = Account.create()
    challenge = headless.post(
        "/auth/wallet/challenge",
        {"chain": "eip155:1", "address": account.address, "process": "login"},
    )
    assert challenge.status_code == HTTPStatus.OK, challenge.content
    message = challenge.json()["data"]["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    body = {"chain": "eip155:1", "address": account.address, "message": message}
    verified = headless.post("/auth/wallet/verify", {**body, "signature": signature})
    assert verified.status_code == HTTPStatus.OK, verified.content
    return signature


def _drive_every_secret_path(headless, make_headless, client_kind) -> set[str]:
    """Signup, verification, wrong and right logins, token use, password change
    and reset, wallet sign-in; returns every secret the client handled."""
    secrets = {PASSWORD, "wrong password 8812", "changed passphrase 9911", "reset pass 7733"}
    headless.post("/auth/signup", {"email": "bob@example.com", "password": PASSWORD})
    verify_key = key_from_mail()
    headless.post("/auth/email/verify", {"key": verify_key})
    secrets.add(headless.token or headless.http.cookies[settings.SESSION_COOKIE_NAME].value)
    headless.delete("/auth/session")
    headless.token = None  # an app drops its token on logout
    headless.post("/auth/login", {"email": "bob@example.com", "password": "wrong password 8812"})
    login = headless.post("/auth/login", {"email": "bob@example.com", "password": PASSWORD})
    assert login.status_code == HTTPStatus.OK, login.content
    if client_kind == "app":
        secrets.add(headless.token)
        headless.get("/auth/session", headers={"Authorization": f"Bearer {headless.token}"})
    else:
        secrets.add(headless.http.cookies[settings.SESSION_COOKIE_NAME].value)
        secrets.add(headless.csrf_token())
    headless.get("/auth/session")
    changed = headless.post(
        "/account/password/change",
        {"current_password": PASSWORD, "new_password": "changed passphrase 9911"},
    )
    assert changed.status_code == HTTPStatus.OK, changed.content
    other = make_headless()
    other.post("/auth/password/request", {"email": "bob@example.com"})
    reset_key = key_from_mail()
    other.get("/auth/password/reset", headers={"X-Password-Reset-Key": reset_key})
    reset = other.post("/auth/password/reset", {"key": reset_key, "password": "reset pass 7733"})
    assert reset.status_code == HTTPStatus.UNAUTHORIZED, reset.content
    secrets.add(_wallet_sign_in(make_headless()))
    assert len(mail.outbox) >= 2
    return secrets | {verify_key, reset_key}


def test_no_secret_in_any_line(log_lines, headless, make_headless, client_kind):
    secrets = _drive_every_secret_path(headless, make_headless, client_kind)
    text = "\n".join(log_lines())
    events = ("signup", "email_verified", "login_failed", "password_changed", "password_reset")
    for kind in (*events, "login", "logout"):
        assert f"auth {kind} " in text
    assert "POST /_allauth/" in text and "signet.access" in text
    for secret in secrets:
        assert secret not in text
        # A signature is never logged in part either.
        assert secret[:24] not in text


def test_no_secret_in_json_lines(json_lines, headless, make_headless, client_kind):
    secrets = _drive_every_secret_path(headless, make_headless, client_kind)
    entries = json_lines()
    assert len(access(entries)) >= 12
    text = "\n".join(json.dumps(e) for e in entries)
    for secret in secrets:
        assert secret not in text


# --- The redaction filter -------------------------------------------------------------


def _redacted(msg: str, *args, **kw) -> logging.LogRecord:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, None, **kw)
    RedactFilter().filter(record)
    return record


@pytest.mark.parametrize(
    ("msg", "args", "secret"),
    [
        ("body %s", ({"email": "a@b.c", "password": "hunter2!"},), "hunter2!"),
        ("body %s", ('{"new_password": "p@ss w0rd"}',), "p@ss"),
        ("headers %s", ({"X-Session-Token": "tok123"},), "tok123"),
        ("Authorization: Bearer tok456", (), "tok456"),
        ("HTTP_AUTHORIZATION=Basic dXNlcjpwYXNz", (), "dXNlcjpwYXNz"),
        ("reset with key=2x-abc123", (), "2x-abc123"),
        ("X-Password-Reset-Key: 2x-abc124", (), "2x-abc124"),
        ("signature=0xdeadbeef01", (), "0xdeadbeef01"),
        ("session_token='s3ss10n'", (), "s3ss10n"),
        ("client_secret: sh", (), "client_secret: sh"),
        ("cookie sessionid=abcdef123", (), "abcdef123"),
    ],
)
def test_redaction_of_messages(msg, args, secret):
    record = _redacted(msg, *args)
    assert secret not in record.getMessage()
    assert "[redacted]" in record.getMessage()


@pytest.mark.parametrize(
    "text",
    [
        "POST /_allauth/app/v1/auth/password/reset 400 3.1ms",
        # allauth's login-by-code and token routes are paths, not keys.
        "POST /_allauth/app/v1/auth/code/confirm 400 3.1ms",
        "POST /_allauth/app/v1/tokens/refresh 200 2.0ms",
    ],
)
def test_harmless_text_is_left_alone(text):
    assert _redacted(text).getMessage() == text


def test_redaction_of_structured_fields_and_tracebacks():
    try:
        raise ValueError("bad password='hunter2!'")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, exc_info)
    record.data = {"user_id": 3, "detail": {"token": "t0k", "items": [{"key": "k3y"}]}}
    RedactFilter().filter(record)
    assert "hunter2!" not in record.exc_text
    assert record.data == {
        "user_id": 3,
        "detail": {"token": "[redacted]", "items": [{"key": "[redacted]"}]},
    }
    line = json.loads(JsonFormatter().format(record))
    assert "hunter2!" not in json.dumps(line)
    assert "ValueError" in line["exc"]


# --- What any client can provoke ---------------------------------------------------


@pytest.mark.django_db
def test_a_bad_host_is_one_warning_line_without_a_traceback(json_lines):
    """Django logs a DisallowedHost at ERROR with a traceback: a log flood."""
    host = "evil-" + "k" * 2000
    response = Client(HTTP_HOST=host).get("/_allauth/app/v1/config")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    entries = [e for e in json_lines() if e["logger"].startswith("django.")]
    assert [(e["logger"], e["level"]) for e in entries] == [
        ("django.security.DisallowedHost", "WARNING")
    ]
    assert "exc" not in entries[0] and "Traceback" not in json.dumps(entries)
    assert entries[0]["message"].startswith("Invalid HTTP_HOST header: 'evil-kkk")
    assert len(entries[0]["message"]) <= 303


# --- Mail bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://app.example.com/account/verify-email/{key}",
        "https://app.example.com/account/password/reset/key/{key}",
        "https://app.example.com/reset?key={key}",
        "https://app.example.com/r/{key}",  # a link template of the deployment's own
    ],
)
def test_keys_in_mailed_links_are_redacted(user, link):
    """Whatever the link looks like, a reset or verification key never reaches a log."""
    from accounts.flows.email_verification import make_key as verification_key
    from accounts.flows.password_reset import make_key as reset_key

    keys = [reset_key(user), verification_key(user.emailaddresses.get())]
    for key in keys:
        body = f"Choose a new password here:\n\n{link.format(key=key)}\n\nThanks"
        message = _redacted("mail to %s: %s", user.email, body).getMessage()
        assert key not in message and "[redacted]" in message
        assert key.rsplit("-", 1)[-1] not in message and key.rsplit(":", 1)[-1] not in message


def test_public_values_are_not_taken_for_keys():
    account = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:" + "7" * 44  # CAIP-10
    text = f"wallet {account} request 0123456789abcdef0123456789abcdef"
    assert _redacted(text).getMessage() == text
