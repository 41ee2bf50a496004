"""Request inputs, validated in one place (DRF serializers double as the
OpenAPI request schemas). Unknown fields are ignored, as allauth does.

Every input derives from `Input` (accounts, MFA and wallets alike). An input
reads the JSON body, or, when it declares `headers`, those request headers
only (the keys allauth's GET endpoints take in `X-...-Key`): HeadlessApi.input
reads either the same way, so a header is validated like a body field.
"""

from __future__ import annotations

import copy
from typing import ClassVar

from rest_framework import serializers

PASSWORD_MAX = 4096  # argon2 hashes any length; bound the work per request


class Input(serializers.Serializer):
    """The base of every input: a serializer that copies its declared fields
    shallowly. DRF deep-copies every declared field for every instance
    (tests/benchmarks/README.md: more than half of validating a wallet
    challenge body); these fields hold no per-request state before bind(),
    which sets attributes on the copy only, so a shallow copy will do."""

    # field name -> request header; when set, the input reads these headers only.
    headers: ClassVar[dict[str, str]] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


def _password(**kwargs) -> serializers.CharField:
    return serializers.CharField(trim_whitespace=False, max_length=PASSWORD_MAX, **kwargs)


class SignupInput(Input):
    email = serializers.EmailField(max_length=254)
    password = _password()


class LoginInput(Input):
    email = serializers.EmailField(max_length=254)
    password = _password()


class KeyInput(Input):
    key = serializers.CharField(max_length=512)


class _HeaderKey(Input):
    # As the header was read before inputs took it: no length bound (the
    # server bounds a header line) and no trimming; a bad key is 400
    # `invalid_or_expired_key` from the flow.
    key = serializers.CharField(trim_whitespace=False)


class VerificationKeyHeader(_HeaderKey):
    headers = {"key": "X-Email-Verification-Key"}


class PasswordResetKeyHeader(_HeaderKey):
    headers = {"key": "X-Password-Reset-Key"}


class EmailInput(Input):
    email = serializers.EmailField(max_length=254)


class MailedCodeInput(Input):
    # A mailed code (accounts.codes): 9 characters as issued; typed with
    # spaces or in lower case it is the same code.
    code = serializers.CharField(max_length=64)


class MarkPrimaryInput(EmailInput):
    primary = serializers.BooleanField()

    def validate_primary(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Only `primary: true` is supported.", code="invalid")
        return value


class ResetPasswordInput(Input):
    key = serializers.CharField(max_length=512)
    password = _password()


class ReauthenticateInput(Input):
    password = _password()


class ChangePasswordInput(Input):
    current_password = _password(required=False, allow_blank=True)
    new_password = _password()


class EndSessionsInput(Input):
    # Integer ids, as allauth's spec (accounts.sessions.PUBLIC_ID_SPACE).
    sessions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        allow_empty=False,
        max_length=100,
    )
