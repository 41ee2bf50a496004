"""One error shape for everything Signet answers, below the API layer.

Raise `ApiError(status, code, message, param)` anywhere (flows, the limiter,
wallets, middleware); the DRF exception handler (accounts.api.errors) turns it,
and every DRF/Django error, into
`{"status": <status>, "errors": [{"code", "message", "param"?}]}`.
Codes are the stable strings clients switch on (API.md); they live here only.
"""

from __future__ import annotations

from enum import StrEnum

from django.http import JsonResponse


class Code(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    EMAIL_PASSWORD_MISMATCH = "email_password_mismatch"
    EMAIL_TAKEN = "email_taken"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_COMMON = "password_too_common"
    PASSWORD_ENTIRELY_NUMERIC = "password_entirely_numeric"
    PASSWORD_TOO_SIMILAR = "password_too_similar"
    ENTER_CURRENT_PASSWORD = "enter_current_password"
    INCORRECT_PASSWORD = "incorrect_password"
    UNVERIFIED_PRIMARY_EMAIL = "unverified_primary_email"
    CANNOT_REMOVE_PRIMARY_EMAIL = "cannot_remove_primary_email"
    UNKNOWN_EMAIL = "unknown_email"
    INVALID_OR_EXPIRED_KEY = "invalid_or_expired_key"
    # A value outside the allowed set (e.g. a session id not the user's), as
    # Django's ModelMultipleChoiceField names it in allauth's answers.
    INVALID_CHOICE = "invalid_choice"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_SESSION_TOKEN = "invalid_session_token"
    PERMISSION_DENIED = "permission_denied"
    CSRF_FAILED = "csrf_failed"
    SIGNUP_CLOSED = "signup_closed"
    ALREADY_AUTHENTICATED = "already_authenticated"
    CONFLICT = "conflict"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SERVER_ERROR = "server_error"
    # Wallets
    UNSUPPORTED_CHAIN = "unsupported_chain"
    INVALID_ADDRESS = "invalid_address"
    CHALLENGE_NOT_FOUND = "challenge_not_found"
    MESSAGE_MISMATCH = "message_mismatch"
    DOMAIN_MISMATCH = "domain_mismatch"
    ADDRESS_MISMATCH = "address_mismatch"
    CHAIN_MISMATCH = "chain_mismatch"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PUBLIC_KEY = "invalid_public_key"
    WALLET_ALREADY_LINKED = "wallet_already_linked"
    LAST_LOGIN_METHOD = "last_login_method"
    # MFA (allauth's codes)
    INCORRECT_CODE = "incorrect_code"
    UNVERIFIED_EMAIL = "unverified_email"
    CANNOT_GENERATE_RECOVERY_CODES = "cannot_generate_recovery_codes"


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = int(status)
        self.headers = headers or {}
        error = {"code": str(code), "message": message}
        if param:
            error["param"] = param
        self.errors = errors or [error]


def error_body(status: int, errors: list[dict]) -> dict:
    return {"status": int(status), "errors": errors}


def error_response(status: int, code: str, message: str) -> JsonResponse:
    """The envelope as a plain Django response, for answers outside DRF."""
    errors = [{"code": str(code), "message": message}]
    return JsonResponse(error_body(status, errors), status=status)


def not_found_response() -> JsonResponse:
    """404 for a path nothing serves (the API's fallback, Django's handler404)."""
    return error_response(404, Code.NOT_FOUND, "No such endpoint.")
