"""Request bodies of the MFA endpoints (shape only, as accounts.api.inputs)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.api.inputs import Input


class CodeInput(Input):
    # Codes are 6 or 8 digits; the bound keeps junk cheap to refuse.
    code = serializers.CharField(max_length=64)


class CredentialInput(Input):
    # The browser's PublicKeyCredential as JSON; fido2 parses it (size bounded there).
    credential = serializers.JSONField()


class AddWebAuthnInput(CredentialInput):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class UpdateWebAuthnInput(Input):
    id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    name = serializers.CharField(max_length=100)


class DeleteWebAuthnInput(Input):
    authenticators = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=100
    )


class TrustInput(Input):
    # allauth's TrustInput: optional, absent means "do not trust" (its spec
    # marks it required; its form does not).
    trust = serializers.BooleanField(required=False, default=False)


class SignupWebAuthnInput(Input):
    # allauth's BaseSignupForm without a password; Signet has no usernames (a
    # `username` is ignored, as every unknown field).
    email = serializers.EmailField(max_length=254)
