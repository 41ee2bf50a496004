"""Request ids and logs: one line per request, one per auth event, no secrets.

- `RequestLogMiddleware` (outermost) takes the request id from `X-Request-ID`
  when it is a sane token (<= 64 of [A-Za-z0-9._-], e.g. nginx's
  $request_id) or makes one, echoes it in the response, exposes it to every
  log record through a contextvar, and writes the access line: method, path
  (never the query string), route, status, duration, client ip, user id.
  Never a header.
- `JsonFormatter`: one JSON object per line (production); structured fields
  passed as `extra={"data": {...}}` become top-level keys.
- `RedactFilter`, a second line of defence on the handler: values of keys
  that look secret (password, token, key, signature, secret, authorization,
  ...) are replaced in messages, arguments, tracebacks and structured fields.
  The first line is not logging secrets at all.
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from accounts.metrics import route_of
from accounts.net import client_ip
from accounts.signals import Outcome
from config.patterns import request_pattern

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = request_pattern("request_id", r"[A-Za-z0-9._-]{1,64}", attacks=("a", "a."))
NO_REQUEST = "-"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "signet_request_id", default=NO_REQUEST
)

access_logger = logging.getLogger("signet.access")
auth_logger = logging.getLogger("signet.auth")


# --- Redaction --------------------------------------------------------------

REDACTED = "[redacted]"
# Every pattern here runs on every log line (access lines carry the raw path, a
# bad Host is in Django's message), so they are RE2's: linear whatever the text.
_SECRET_WORDS = r"password|passwd|token|key|signature|secret|authorization|cookie|sessionid"
_ATTACKS = ("key", "key=", "keykey:", "password", 'key="', "token ", "/key/", "a-a-", "a:a:")
_SECRET_NAME = request_pattern("log.secret_name", rf"(?i){_SECRET_WORDS}", attacks=_ATTACKS)
# `name=value`, `name: value`, `"name": "value"`, `'name': 'value'`, with the
# name containing a secret word (new_password, X-Session-Token, public_key);
# a quoted value is redacted up to its closing quote, spaces and all.
_SECRET_PAIR = request_pattern(
    "log.secret_pair",
    rf"(?i)(?P<name>[\w.-]*(?:{_SECRET_WORDS})[\w.-]*)(?P<sep>[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"\n]*|'[^'\n]*|(?:(?:bearer|basic|token|digest)\s+)?[^\s\"',;&)}\]]+)",
    attacks=_ATTACKS,
)
# Mailed links carry their key in the path (accounts.mail.FrontendPath):
# /account/verify-email/<key>, /account/password/reset/key/<key>.
_KEY_IN_PATH = request_pattern(
    "log.key_in_path",
    r"(?i)(?P<name>/(?:verify-email|confirm-email|key|token)/)(?P<value>[^\s/?#\"'<>&]+)",
    attacks=_ATTACKS,
)
# And whatever the link looks like, Signet's keys have a shape: a signed value
# (django.core.signing: value:base62 timestamp:43-character signature, the
# email verification key), a password reset key (uid36-timestamp36-32 hex),
# and a mailed code (accounts.codes: BCDF-GHJK, allauth's user-code alphabet).
_KEY_SHAPE = request_pattern(
    "log.key_shape",
    r"[A-Za-z0-9_.-]+:[A-Za-z0-9]{5,7}:[A-Za-z0-9_-]{43}|\b[0-9a-z]+-[0-9a-z]+-[0-9a-f]{32}\b"
    r"|\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b",
    attacks=_ATTACKS,
)


def _redact_pair(match) -> str:
    quote = match["value"][:1] if match["value"][:1] in ("'", '"') else ""
    return f"{match['name']}{match['sep']}{quote}{REDACTED}"


def redact_text(text: str) -> str:
    text = _SECRET_PAIR.sub(_redact_pair, text)
    text = _KEY_IN_PATH.sub(lambda m: f"{m['name']}{REDACTED}", text)
    return _KEY_SHAPE.sub(REDACTED, text)


def redact_value(value: Any, name: str = "") -> Any:
    """Structured data: secret-named keys lose their value, strings are scrubbed."""
    if name and _SECRET_NAME.search(name) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        # str(): a str subclass (a TextChoices member) as its plain value, which
        # the regex engine needs (it builds results of the input's own type).
        return redact_text(str(value))
    return value


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            record.data = redact_value(data)
        return True


class ClientMistakeFilter(logging.Filter):
    """On django.security.* loggers for what any client can send (a bad Host,
    an oversized form): Django logs each at ERROR with a traceback, so a
    script floods the log and pages someone. One WARNING line instead, the
    client's text cut short."""

    MAX_CHARS = 300

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = record.exc_text = record.stack_info = None
        message = record.getMessage()
        if len(message) > self.MAX_CHARS:
            message = message[: self.MAX_CHARS] + "..."
        record.msg, record.args = message, None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_REQUEST),
        }
        data = getattr(record, "data", None)
        if isinstance(data, dict):
            entry.update({k: v for k, v in data.items() if k not in entry})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- Request id and access log ------------------------------------------------


def request_id_from(request: HttpRequest) -> str:
    candidate = request.META.get("HTTP_X_REQUEST_ID", "")
    # 32 hex digits like uuid4().hex, for a fraction of its cost.
    return candidate if candidate and _SANE_ID.fullmatch(candidate) else secrets.token_hex(16)


def known_user_id(request: HttpRequest) -> int | None:
    """The user id if authentication already ran; never triggers a lookup."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self.log(request, response, (time.perf_counter() - start) * 1000)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def log(request: HttpRequest, response: HttpResponse, duration_ms: float) -> None:
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.INFO
        if not access_logger.isEnabledFor(level):
            return  # LOG_LEVEL above it: skip building the line
        access_logger.log(
            level,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "data": {
                    "method": request.method,
                    "path": request.path,
                    "route": route_of(request),
                    "status": status,
                    "duration_ms": round(duration_ms, 2),
                    "client_ip": client_ip(request),
                    "user_id": known_user_id(request),
                }
            },
        )


# --- Auth events --------------------------------------------------------------


def log_auth_event(
    *, kind: str, outcome: str, user=None, method: str = "", chain: str = "", detail=None, **_
) -> None:
    """auth_event receiver (connected in accounts.audit)."""
    level = logging.INFO if outcome == Outcome.SUCCESS else logging.WARNING
    if not auth_logger.isEnabledFor(level):
        return
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    auth_logger.log(
        level,
        "auth %s %s",
        kind,
        outcome,
        extra={
            "data": {
                "event": kind,
                "outcome": outcome,
                "method": method,
                "chain": chain,
                "user_id": user_id,
                "detail": redact_value(dict(detail or {})),
            }
        },
    )
