"""What POST /tokens/refresh accepts: shape only."""

from __future__ import annotations

from rest_framework import serializers

from accounts.api.inputs import Input


class RefreshTokenInput(Input):
    # Ours are 43 characters; the bound keeps junk cheap to refuse.
    refresh_token = serializers.CharField(max_length=256)
