"""OpenAPI description of the MFA endpoints, in accounts.api.openapi's terms.

Imported by MfaConfig.ready(): the view extensions register on import.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from accounts.api.openapi import (
    REAUTHENTICATION_401,
    ApiOperation,
    EmptyResponse,
    authenticated,
    authentication_or_reauthentication,
    document,
    envelope,
    not_authenticated,
)
from accounts.errors import Code
from accounts.mfa.api import inputs

VIEWS = "accounts.mfa.api.views."
AUTH_TAG, ACCOUNT_TAG = "Authentication: 2FA", "Account: 2FA"
TYPES = ["recovery_codes", "totp", "webauthn"]


class AuthenticatorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPES)
    created_at = serializers.FloatField(help_text="Unix timestamp.")
    last_used_at = serializers.FloatField(allow_null=True, help_text="Unix timestamp.")
    total_code_count = serializers.IntegerField(required=False, help_text="Recovery codes only.")
    unused_code_count = serializers.IntegerField(required=False, help_text="Recovery codes only.")


class RecoveryCodesSerializer(AuthenticatorSerializer):
    unused_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="The unused codes, while fresh: in the answer that generates them and "
        "the first GET after; empty afterwards (only their hashes are kept).",
    )


class TotpSetupMetaSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 secret, for manual entry.")
    totp_url = serializers.CharField(help_text="`otpauth://totp/...` URI.")
    totp_svg = serializers.CharField(help_text="The URI as an SVG QR code.")
    totp_svg_data_uri = serializers.CharField(help_text="The same SVG as a data: URI.")


AuthenticatorResponse = envelope("AuthenticatorResponse", AuthenticatorSerializer)
AuthenticatorListResponse = envelope(
    "AuthenticatorListResponse", AuthenticatorSerializer, many=True
)
RecoveryCodesResponse = envelope("RecoveryCodesResponse", RecoveryCodesSerializer)
TotpSetupResponse = envelope("TotpSetupResponse", meta=TotpSetupMetaSerializer)


REAUTHENTICATE = authentication_or_reauthentication(
    REAUTHENTICATION_401 + " For an MFA user the flows include `mfa_reauthenticate`."
)
CODE_ERRORS = {400: [Code.INCORRECT_CODE]}

document(
    VIEWS + "AuthenticateApi",
    post=ApiOperation(
        "Complete a sign-in with a second factor (`mfa_authenticate`)",
        {
            200: authenticated("Signed in: a `mfa` method follows the first factor's."),
            401: not_authenticated("No sign-in awaits a code (or it timed out)."),
        },
        errors={**CODE_ERRORS, 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.CodeInput,
        description="A TOTP code or an unused recovery code. Each TOTP code is accepted "
        "once; wrong codes count against the `mfa_authenticate` rate limit (per user).",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "TrustApi",
    post=ApiOperation(
        "Trust this browser, or not, and complete the sign-in (`mfa_trust`)",
        {
            200: authenticated("Signed in; with `trust: true` the trust cookie is set."),
            401: not_authenticated("No sign-in awaits the answer (or it timed out)."),
        },
        errors={404: [Code.NOT_FOUND], 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.TrustInput,
        description="Browser client only, when MFA_TRUST_ENABLED (else 404). After a second "
        "factor the sign-in waits at `mfa_trust`; `trust` (default false) true sets a signed, "
        "HttpOnly cookie with which this user's next sign-ins from this browser skip the "
        "second factor for MFA_TRUST_COOKIE_AGE, until the password or an authenticator "
        "changes.",
        tag=AUTH_TAG,
    ),
)
document(
    VIEWS + "ReauthenticateApi",
    post=ApiOperation(
        "Reauthenticate with a second factor (`mfa_reauthenticate`)",
        {200: authenticated("A `mfa` method with `reauthenticated: true` is added.")},
        errors=CODE_ERRORS,
        request=inputs.CodeInput,
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "AuthenticatorsApi",
    get=ApiOperation(
        "List the user's authenticators",
        {200: OpenApiResponse(AuthenticatorListResponse, "Oldest first.")},
        tag=ACCOUNT_TAG,
    ),
)
document(
    VIEWS + "TotpApi",
    get=ApiOperation(
        "TOTP status, or a new secret to set it up",
        {
            200: OpenApiResponse(AuthenticatorResponse, "TOTP is active."),
            404: OpenApiResponse(TotpSetupResponse, "Not active: a new secret, shown once."),
        },
        errors={409: [Code.UNVERIFIED_EMAIL]},
        tag=ACCOUNT_TAG,
    ),
    post=ApiOperation(
        "Activate TOTP with a code from the secret just shown",
        {
            200: OpenApiResponse(AuthenticatorResponse, "Active; recovery codes made too."),
            401: REAUTHENTICATE,
        },
        errors={**CODE_ERRORS, 409: [Code.UNVERIFIED_EMAIL, Code.CONFLICT]},
        request=inputs.CodeInput,
        tag=ACCOUNT_TAG,
        rate_limited=True,
    ),
    delete=ApiOperation(
        "Deactivate TOTP (its recovery codes go with it)",
        {
            200: OpenApiResponse(EmptyResponse, "Done (also when none was active)."),
            401: REAUTHENTICATE,
        },
        tag=ACCOUNT_TAG,
    ),
)
document(
    VIEWS + "RecoveryCodesApi",
    get=ApiOperation(
        "Recovery codes: counts, and the codes while fresh",
        {200: OpenApiResponse(RecoveryCodesResponse, "The codes."), 401: REAUTHENTICATE},
        errors={404: [Code.NOT_FOUND]},
        tag=ACCOUNT_TAG,
    ),
    post=ApiOperation(
        "Generate a new set of recovery codes (the old set is void)",
        {200: OpenApiResponse(RecoveryCodesResponse, "The new codes."), 401: REAUTHENTICATE},
        errors={400: [Code.CANNOT_GENERATE_RECOVERY_CODES]},
        tag=ACCOUNT_TAG,
    ),
)


class WebAuthnAuthenticatorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPES, help_text="`webauthn`.")
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_passwordless = serializers.BooleanField(
        required=False, help_text="Whether the key is a passkey; absent when unknown."
    )
    created_at = serializers.FloatField(help_text="Unix timestamp.")
    last_used_at = serializers.FloatField(allow_null=True, help_text="Unix timestamp.")


class WebAuthnAddedMetaSerializer(serializers.Serializer):
    recovery_codes_generated = serializers.BooleanField()


class CreationOptionsSerializer(serializers.Serializer):
    creation_options = serializers.DictField(
        help_text="`{publicKey: ...}` for `PublicKeyCredential.parseCreationOptionsFromJSON()`."
    )


class RequestOptionsSerializer(serializers.Serializer):
    request_options = serializers.DictField(
        help_text="`{publicKey: ...}` for `PublicKeyCredential.parseRequestOptionsFromJSON()`."
    )


WebAuthnResponse = envelope("WebAuthnAuthenticatorResponse", WebAuthnAuthenticatorSerializer)
WebAuthnAddedResponse = envelope(
    "AddWebAuthnAuthenticatorResponse",
    WebAuthnAuthenticatorSerializer,
    meta=WebAuthnAddedMetaSerializer,
)
CreationOptionsResponse = envelope("WebAuthnCreationOptionsResponse", CreationOptionsSerializer)
RequestOptionsResponse = envelope("WebAuthnRequestOptionsResponse", RequestOptionsSerializer)
CREDENTIAL_ERRORS = {400: [Code.INCORRECT_CODE]}
CREDENTIAL = (
    " `credential` is the browser's PublicKeyCredential as JSON (`toJSON()`), for the "
    "challenge of the last GET of this path in this session; each challenge is used once."
)

document(
    VIEWS + "WebAuthnApi",
    get=ApiOperation(
        "WebAuthn creation options to add a key (`?passwordless` for a passkey)",
        {200: OpenApiResponse(CreationOptionsResponse, "The options."), 401: REAUTHENTICATE},
        errors={409: [Code.UNVERIFIED_EMAIL]},
        tag=ACCOUNT_TAG,
    ),
    post=ApiOperation(
        "Add a WebAuthn key from the ceremony's credential",
        {200: OpenApiResponse(WebAuthnAddedResponse, "Added."), 401: REAUTHENTICATE},
        errors={**CREDENTIAL_ERRORS, 409: [Code.UNVERIFIED_EMAIL, Code.CONFLICT]},
        request=inputs.AddWebAuthnInput,
        description="`name` defaults to allauth's (`Master key`, `Backup key`, ...)." + CREDENTIAL,
        tag=ACCOUNT_TAG,
    ),
    put=ApiOperation(
        "Rename a WebAuthn key",
        {200: OpenApiResponse(WebAuthnResponse, "Renamed."), 401: REAUTHENTICATE},
        errors={400: [Code.INVALID]},
        request=inputs.UpdateWebAuthnInput,
        tag=ACCOUNT_TAG,
    ),
    delete=ApiOperation(
        "Remove WebAuthn keys (recovery codes left alone go with them)",
        {200: OpenApiResponse(EmptyResponse, "Removed."), 401: REAUTHENTICATE},
        errors={400: [Code.INVALID]},
        request=inputs.DeleteWebAuthnInput,
        tag=ACCOUNT_TAG,
    ),
)
document(
    VIEWS + "WebAuthnAuthenticateApi",
    get=ApiOperation(
        "WebAuthn request options for the pending `mfa_authenticate`",
        {
            200: OpenApiResponse(RequestOptionsResponse, "The options."),
            401: not_authenticated("No sign-in awaits a second factor."),
        },
        errors={409: [Code.ALREADY_AUTHENTICATED]},
        tag=AUTH_TAG,
    ),
    post=ApiOperation(
        "Complete a sign-in with a WebAuthn assertion (`mfa_authenticate`)",
        {
            200: authenticated("Signed in: a `mfa` method of type `webauthn` follows."),
            401: not_authenticated("No sign-in awaits a second factor."),
        },
        errors={**CREDENTIAL_ERRORS, 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.CredentialInput,
        description="A counter that does not move forward (a cloned key) is refused." + CREDENTIAL,
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "WebAuthnReauthenticateApi",
    get=ApiOperation(
        "WebAuthn request options to reauthenticate",
        {200: OpenApiResponse(RequestOptionsResponse, "The options.")},
        tag=AUTH_TAG,
    ),
    post=ApiOperation(
        "Reauthenticate with a WebAuthn assertion (`mfa_reauthenticate`)",
        {200: authenticated("A `mfa` method with `reauthenticated: true` is added.")},
        errors=CREDENTIAL_ERRORS,
        request=inputs.CredentialInput,
        description=CREDENTIAL.strip(),
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "WebAuthnLoginApi",
    get=ApiOperation(
        "WebAuthn request options for passkey login (`mfa_login_webauthn`)",
        {200: OpenApiResponse(RequestOptionsResponse, "Options for any discoverable key.")},
        errors={404: [Code.NOT_FOUND], 409: [Code.ALREADY_AUTHENTICATED]},
        tag=AUTH_TAG,
    ),
    post=ApiOperation(
        "Sign in with a passkey alone",
        {200: authenticated("Signed in: one `mfa` method, `passwordless: true`.")},
        errors={**CREDENTIAL_ERRORS, 404: [Code.NOT_FOUND], 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.CredentialInput,
        description="Needs MFA_PASSKEY_LOGIN_ENABLED; user verification is required." + CREDENTIAL,
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)

SIGNUP_PENDING = {409: [Code.CONFLICT, Code.ALREADY_AUTHENTICATED], 404: [Code.NOT_FOUND]}
document(
    VIEWS + "WebAuthnSignupApi",
    post=ApiOperation(
        "Start a passkey signup (no password)",
        {
            401: not_authenticated(
                "`verify_email` pending: the code mailed to the address, then "
                "`mfa_signup_webauthn`. A taken address answers the same (its owner is mailed)."
            )
        },
        errors={400: [Code.EMAIL_TAKEN], 403: [Code.SIGNUP_CLOSED], **SIGNUP_PENDING},
        request=inputs.SignupWebAuthnInput,
        description="Needs MFA_PASSKEY_SIGNUP_ENABLED (404 otherwise), which needs email "
        "verification by code and mandatory verification. POST /auth/email/verify with the "
        "code moves on to `mfa_signup_webauthn`.",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
    get=ApiOperation(
        "Creation options for the signup's passkey",
        {200: OpenApiResponse(CreationOptionsResponse, "Resident key, user verified.")},
        errors=SIGNUP_PENDING,
        description="allauth's behaviour: `creation_options` (its spec names request options).",
        tag=AUTH_TAG,
    ),
    put=ApiOperation(
        "Register the signup's passkey and sign in",
        {200: authenticated("Signed in: one `mfa` method, `passwordless: true`.")},
        errors={**CREDENTIAL_ERRORS, **SIGNUP_PENDING},
        request=inputs.AddWebAuthnInput,
        description="No recovery codes are made (allauth's). User verification is required."
        + CREDENTIAL,
        tag=AUTH_TAG,
    ),
)
