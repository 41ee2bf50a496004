"""Password rules are Django's validators; their codes are the API's codes."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.errors import ApiError, Code

_KNOWN = {
    Code.PASSWORD_TOO_SHORT,
    Code.PASSWORD_TOO_COMMON,
    Code.PASSWORD_ENTIRELY_NUMERIC,
    Code.PASSWORD_TOO_SIMILAR,
}


def password_errors(password: str, user, param: str = "password") -> list[dict]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return [
            {
                "code": e.code if e.code in _KNOWN else str(Code.INVALID),
                "message": " ".join(e.messages),
                "param": param,
            }
            for e in exc.error_list
        ]
    return []


def check_new_password(password: str, user, param: str = "password") -> None:
    errors = password_errors(password, user, param)
    if errors:
        raise ApiError(400, Code.INVALID, "", errors=errors)
