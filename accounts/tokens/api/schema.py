"""OpenAPI description of POST /_allauth/app/v1/tokens/refresh.

Imported by TokensConfig.ready(): the view extension registers on import.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from accounts.api.openapi import ApiOperation, document, envelope
from accounts.errors import Code
from accounts.tokens.api.views import RefreshTokenInput


class TokensSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="A new ES256 access token.")
    refresh_token = serializers.CharField(help_text="The next refresh token: this one is spent.")


document(
    "accounts.tokens.api.views.RefreshTokenApi",
    post=ApiOperation(
        "Refresh the access token",
        {200: OpenApiResponse(envelope("RefreshTokenResponse", TokensSerializer), "Rotated.")},
        errors={400: [Code.INVALID], 404: [Code.NOT_FOUND]},
        request=RefreshTokenInput,
        description="Spends the refresh token and answers a new pair. A refresh token used "
        "twice revokes every token descended from its sign-in; one whose session ended "
        "(logout, ended from the session list, a password change) is refused.",
        tag="Tokens",
        dependencies=False,
    ),
)
