"""Request bodies, validated in one place (DRF serializers double as the
OpenAPI request schemas). Unknown fields are ignored, as allauth does."""

from __future__ import annotations

from rest_framework import serializers

PASSWORD_MAX = 4096  # argon2 hashes any length; bound the work per request


def _password(**kwargs) -> serializers.CharField:
    return serializers.CharField(trim_whitespace=False, max_length=PASSWORD_MAX, **kwargs)


class SignupInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password()


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password()


class KeyInput(serializers.Serializer):
    key = serializers.CharField(max_length=512)


class EmailInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class MarkPrimaryInput(EmailInput):
    primary = serializers.BooleanField()

    def validate_primary(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Only `primary: true` is supported.", code="invalid")
        return value


class ResetPasswordInput(serializers.Serializer):
    key = serializers.CharField(max_length=512)
    password = _password()


class ReauthenticateInput(serializers.Serializer):
    password = _password()


class ChangePasswordInput(serializers.Serializer):
    current_password = _password(required=False, allow_blank=True)
    new_password = _password()


class EndSessionsInput(serializers.Serializer):
    # Integer ids, as allauth's spec (accounts.sessions.PUBLIC_ID_SPACE).
    sessions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        allow_empty=False,
        max_length=100,
    )
