"""Request bodies of the MFA endpoints (shape only, as accounts.api.inputs)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.api.inputs import Input


class CodeInput(Input):
    # Codes are 6 or 8 digits; the bound keeps junk cheap to refuse.
    code = serializers.CharField(max_length=64)
