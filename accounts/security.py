"""HTTP hardening that Django does not do by itself.

- `ContentSecurityPolicyMiddleware`: a Content-Security-Policy by path prefix
  (settings.CSP_POLICIES: the admin, the docs page), and CSP_DEFAULT for
  everything else (the API only ever answers JSON, so `default-src 'none'`).
- `RequestBodyLimitMiddleware`: under /_allauth/ a body announced larger than
  DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 in the envelope before anything
  reads it. Django enforces that limit only when `request.body`/`POST` is
  read (and then as a 400 HTML page, or a 500 inside DRF), while DRF reads
  the raw stream and never checks it.
- `BoundedJSONParser`: the same size bound while reading (a second line of
  defence), and nesting deeper than JSON_MAX_DEPTH is a 400 `invalid`, found
  by a scan *before* parsing: `json` recurses once per level, so a deep body
  is a RecursionError (a 500) at the default recursion limit, and a deep C
  stack where a library raised that limit (py_ecc sets 100000 on import).
- `handler400/403/404/500`: errors Django answers itself (a disallowed Host,
  an unknown URL, an exception raised in a middleware before any view) are
  the envelope too, except under /admin/, which keeps Django's pages. A 500
  caused by the database or Redis is the contract's 503 `service_unavailable`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from redis.exceptions import RedisError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

from accounts.clients import API_PREFIX
from accounts.errors import ApiError, Code, error_body, error_response, not_found_response

CSP_HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Longest prefix first, so a specific path wins over a general one.
        self.policies = sorted(settings.CSP_POLICIES.items(), key=lambda item: -len(item[0]))

    def policy_for(self, path: str) -> str:
        for prefix, policy in self.policies:
            if path.startswith(prefix):
                return policy
        return settings.CSP_DEFAULT

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = self.policy_for(request.path_info)
        if policy and CSP_HEADER not in response:
            response[CSP_HEADER] = policy
        return response


def _too_large(limit: int) -> ApiError:
    return ApiError(413, Code.INVALID, f"The request body is larger than {limit} bytes.")


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path_info.startswith(API_PREFIX):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads nothing from a body of unknown length
            if length > limit:
                error = _too_large(limit)
                return JsonResponse(error_body(error.status, error.errors), status=error.status)
        return self.get_response(request)


def _string_end(text: str, start: int) -> int:
    """Index of the quote closing the JSON string whose content starts at
    `start` (len(text) when it is never closed). A quote is escaped when an odd
    number of backslashes precedes it; each run of backslashes is looked at
    once, by the quote after it, so the whole scan stays linear."""
    while True:
        quote = text.find('"', start)
        if quote < 0:
            return len(text)
        before = quote
        while before > start and text[before - 1] == "\\":
            before -= 1
        if (quote - before) % 2 == 0:
            return quote
        start = quote + 1


def nesting_exceeds(text: str, limit: int) -> bool:
    """True when arrays/objects in the JSON text nest deeper than `limit`
    (a top-level object is depth 1). One pass, never recursive, no regex:
    a regex that skips strings retried at every quote of an unclosed string,
    which made `"\\"\\"...` (64 KB) cost seconds."""
    depth, index, end = 0, 0, len(text)
    while index < end:
        char = text[index]
        if char == '"':
            index = _string_end(text, index + 1)
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
        index += 1
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise _too_large(limit)
        try:
            text = raw.decode(get_encoding(parser_context or {}))
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if nesting_exceeds(text, settings.JSON_MAX_DEPTH):
            raise ApiError(400, Code.INVALID, "The request body is nested too deeply.")
        try:
            parse_constant = strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


# --- Errors Django answers itself -------------------------------------------------

_HTML_PREFIXES = ("/admin/",)


def _wants_html(request: HttpRequest) -> bool:
    return request.path_info.startswith(_HTML_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return defaults.bad_request(request, exception)
    return error_response(400, Code.INVALID, "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return defaults.permission_denied(request, exception)
    return error_response(403, Code.PERMISSION_DENIED, "You do not have permission to do this.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return defaults.page_not_found(request, exception)
    return not_found_response()


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_html(request):
        return defaults.server_error(request)
    # Django calls this while handling the exception, so it is still at hand.
    if isinstance(sys.exc_info()[1], DatabaseError | RedisError):
        return error_response(
            503,
            Code.SERVICE_UNAVAILABLE,
            "A backing service is unavailable; try again shortly.",
        )
    return error_response(500, Code.SERVER_ERROR, "Something went wrong on our side.")
