"""The DRF exception handler: every error a view raises becomes the envelope.

`ApiError`, `Code` and `error_body` live in accounts.errors (flows, the
limiter and wallets raise them below the API layer): import them from there.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, IntegrityError
from django.http import Http404
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.errors import ApiError, Code, error_body

__all__ = ["exception_handler", "validation_errors"]

logger = logging.getLogger(__name__)


# DRF's validation codes mapped onto the contract's few stable ones.
_FIELD_CODES = {
    "blank": Code.REQUIRED,
    "null": Code.REQUIRED,
    "required": Code.REQUIRED,
    # DRF's ChoiceField says invalid_choice; its fields have always answered
    # `invalid`. Only the session selection raises Code.INVALID_CHOICE itself.
    "invalid_choice": Code.INVALID,
}


def validation_errors(detail, param: str | None = None) -> list[dict]:
    """Flatten DRF's nested ErrorDetail structure into envelope errors."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub = None if key in ("non_field_errors", "__all__") else key
            out.extend(
                validation_errors(value, f"{param}.{sub}" if param and sub else sub or param)
            )
    elif isinstance(detail, list):
        for item in detail:
            out.extend(validation_errors(item, param))
    else:
        code = getattr(detail, "code", None) or Code.INVALID
        code = _FIELD_CODES.get(code, code if code in Code._value2member_map_ else Code.INVALID)
        error = {"code": str(code), "message": str(detail)}
        if param:
            error["param"] = param
        out.append(error)
    return out


def _from_exception(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, exceptions.ValidationError):
        return ApiError(400, Code.INVALID, "", errors=validation_errors(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return ApiError(400, Code.INVALID, "The request body is not valid JSON.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ApiError(
            415, Code.UNSUPPORTED_MEDIA_TYPE, "Send the request body as application/json."
        )
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ApiError(405, Code.METHOD_NOT_ALLOWED, str(exc.detail))
    if isinstance(exc, exceptions.NotAcceptable):
        return ApiError(406, Code.INVALID, "Only application/json responses are available.")
    if isinstance(exc, exceptions.Throttled):
        headers = {"Retry-After": str(int(exc.wait or 1))}
        return ApiError(429, Code.RATE_LIMITED, "Too many requests.", headers=headers)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        auth_header = getattr(exc, "auth_header", None)
        return ApiError(
            401,
            Code.NOT_AUTHENTICATED,
            str(exc.detail),
            headers={"WWW-Authenticate": auth_header} if auth_header else None,
        )
    if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
        return ApiError(403, Code.PERMISSION_DENIED, "You do not have permission to do this.")
    if isinstance(exc, exceptions.NotFound | Http404):
        return ApiError(404, Code.NOT_FOUND, "Not found.")
    if isinstance(exc, RedisError):
        logger.error("redis unavailable: %s", exc.__class__.__name__)
        return ApiError(
            503, Code.SERVICE_UNAVAILABLE, "A backing service is unavailable; try again shortly."
        )
    if isinstance(exc, IntegrityError):
        # A lost race the flow did not anticipate: the state changed under us.
        return ApiError(409, Code.CONFLICT, "The request conflicts with a concurrent change.")
    if isinstance(exc, DatabaseError):
        logger.error("database error: %s", exc.__class__.__name__)
        return ApiError(
            503, Code.SERVICE_UNAVAILABLE, "A backing service is unavailable; try again shortly."
        )
    if isinstance(exc, exceptions.APIException):
        return ApiError(exc.status_code, Code.INVALID, str(exc.detail))
    return None


def exception_handler(exc: Exception, context: dict) -> Response:
    error = _from_exception(exc)
    if error is None:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        error = ApiError(
            HTTPStatus.INTERNAL_SERVER_ERROR, Code.SERVER_ERROR, "Something went wrong on our side."
        )
    from rest_framework.views import set_rollback  # DRF imports its settings (and us) first

    set_rollback()
    response = Response(error_body(error.status, error.errors), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response
