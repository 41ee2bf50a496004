"""OpenAPI description of the accounts endpoints, in accounts.api.openapi's terms.

Descriptions follow accounts/api/views.py and the flows; keep them in step.
Imported by AccountsConfig.ready(): the view extensions register on import.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from accounts.api import inputs
from accounts.api.openapi import (
    ApiOperation,
    EmptyResponse,
    UserSerializer,
    authenticated,
    document,
    envelope,
    not_authenticated,
)
from accounts.errors import Code
from accounts.flows.email_verification import Verification


class AccountConfigSerializer(serializers.Serializer):
    login_methods = serializers.ListField(child=serializers.CharField())
    is_open_for_signup = serializers.BooleanField()
    email_verification = serializers.ChoiceField(choices=[mode.value for mode in Verification])
    email_verification_by_code_enabled = serializers.BooleanField()
    login_by_code_enabled = serializers.BooleanField()
    password_reset_by_code_enabled = serializers.BooleanField()
    authentication_method = serializers.CharField()


class UserSessionsConfigSerializer(serializers.Serializer):
    track_activity = serializers.BooleanField()


class WalletConfigSerializer(serializers.Serializer):
    chains = serializers.ListField(child=serializers.CharField(), help_text="CAIP-2 ids.")
    domains = serializers.ListField(child=serializers.CharField())


class MfaConfigSerializer(serializers.Serializer):
    supported_types = serializers.ListField(child=serializers.CharField())
    passkey_login_enabled = serializers.BooleanField()
    passkey_signup_enabled = serializers.BooleanField(
        help_text="Signet's: MFA_PASSKEY_SIGNUP_ENABLED (allauth's /config does not say)."
    )


class ConfigDataSerializer(serializers.Serializer):
    account = AccountConfigSerializer()
    usersessions = UserSessionsConfigSerializer()
    wallet = WalletConfigSerializer(required=False)
    mfa = MfaConfigSerializer(required=False)


class EmailAddressSerializer(serializers.Serializer):
    email = serializers.EmailField()
    primary = serializers.BooleanField()
    verified = serializers.BooleanField()


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Public id (never the session token).")
    created_at = serializers.FloatField(allow_null=True, help_text="Unix timestamp.")
    last_seen_at = serializers.FloatField(allow_null=True, help_text="Unix timestamp.")
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    is_current = serializers.BooleanField()


class VerificationInfoSerializer(serializers.Serializer):
    email = serializers.EmailField()
    user = UserSerializer()


class IsAuthenticatingSerializer(serializers.Serializer):
    is_authenticating = serializers.BooleanField(
        help_text="Verifying completes this session's pending signup or login."
    )


class ResetInfoSerializer(serializers.Serializer):
    user = UserSerializer()


def _ok(serializer: type[serializers.Serializer], description: str) -> Any:
    return OpenApiResponse(serializer, description)


ConfigResponse = envelope("ConfigResponse", ConfigDataSerializer)
EmailListResponse = envelope("EmailAddressListResponse", EmailAddressSerializer, many=True)
SessionListResponse = envelope("SessionListResponse", SessionSerializer, many=True)
VerificationInfoResponse = envelope(
    "EmailVerificationInfoResponse", VerificationInfoSerializer, IsAuthenticatingSerializer
)
ResetInfoResponse = envelope("PasswordResetInfoResponse", ResetInfoSerializer)

VIEWS = "accounts.api.views."
PASSWORD_CODES = [
    Code.PASSWORD_TOO_SHORT,
    Code.PASSWORD_TOO_COMMON,
    Code.PASSWORD_ENTIRELY_NUMERIC,
    Code.PASSWORD_TOO_SIMILAR,
]
PENDING = not_authenticated("Email verification pending: `verify_email` flow with `is_pending`.")
EMAIL_LIST = {200: _ok(EmailListResponse, "The user's addresses, primary first.")}
SESSION_LIST = {200: _ok(SessionListResponse, "The user's live sessions, newest first.")}
KEY_HEADER = "The key from the emailed link."
EMAIL_TAG, AUTH_TAG, RESET_TAG = "Account: Email", "Authentication: Account", "Password reset"

document(
    VIEWS + "ConfigApi",
    get=ApiOperation(
        "What this server offers",
        {200: _ok(ConfigResponse, "Sign-in methods, signup, verification, wallet chains.")},
        tag="Configuration",
        dependencies=False,
    ),
)
document(
    VIEWS + "SessionApi",
    get=ApiOperation(
        "The current authentication state",
        {200: authenticated(), 401: not_authenticated("Not signed in, with the next flows.")},
        tag="Authentication: Current session",
    ),
    delete=ApiOperation(
        "Sign out",
        {401: not_authenticated("Signed out (allauth answers 401 on success).")},
        tag="Authentication: Current session",
    ),
)
document(
    VIEWS + "SignupApi",
    post=ApiOperation(
        "Sign up with email and password",
        {200: authenticated("Signed up and signed in (verification not mandatory)."), 401: PENDING},
        errors={
            400: [Code.EMAIL_TAKEN, *PASSWORD_CODES],
            403: [Code.SIGNUP_CLOSED],
            409: [Code.ALREADY_AUTHENTICATED],
        },
        request=inputs.SignupInput,
        description="With mandatory verification and enumeration prevention, a taken "
        "address answers like a fresh signup (401 pending) and its owner is mailed.",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "LoginApi",
    post=ApiOperation(
        "Sign in with email and password",
        {200: authenticated(), 401: PENDING},
        errors={400: [Code.EMAIL_PASSWORD_MISMATCH], 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.LoginInput,
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
CODE_TAG = "Authentication: Login by code"
LOGIN_CODE_PENDING = not_authenticated(
    "A code is mailed (or, to an address nobody owns, a note that no account uses it: "
    "the same answer): `login_by_code` flow with `is_pending`."
)
document(
    VIEWS + "RequestLoginCodeApi",
    post=ApiOperation(
        "Mail a sign-in code",
        {401: LOGIN_CODE_PENDING},
        errors={404: [Code.NOT_FOUND], 409: [Code.ALREADY_AUTHENTICATED]},
        request=inputs.EmailInput,
        description="ACCOUNT_LOGIN_BY_CODE_ENABLED (else 404). Only the owner of an address "
        "(verified) gets a code; the answer is the same for any well-formed address.",
        tag=CODE_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "ConfirmLoginCodeApi",
    post=ApiOperation(
        "Sign in with the mailed code",
        {
            200: authenticated("Signed in: a method `code` with the address."),
            401: not_authenticated("A second factor is needed: `mfa_authenticate` pending."),
        },
        errors={400: [Code.INCORRECT_CODE], 409: [Code.CONFLICT]},
        request=inputs.MailedCodeInput,
        description="ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS tries within "
        "ACCOUNT_LOGIN_BY_CODE_TIMEOUT; the last wrong one ends the flow (then 409).",
        tag=CODE_TAG,
    ),
)
document(
    VIEWS + "ResendLoginCodeApi",
    post=ApiOperation(
        "Mail a new sign-in code",
        {200: _ok(EmptyResponse, "Sent (or nothing to send, indistinguishably).")},
        errors={404: [Code.NOT_FOUND], 409: [Code.CONFLICT]},
        description="With ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND, twice per flow (allauth's "
        "quota); otherwise, or without a pending flow, 409.",
        tag=CODE_TAG,
        rate_limited=True,
    ),
)
BY_CODE = (
    " With ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED the key is the mailed code, valid "
    "only in the session that was mailed it (a pending signup/login, or an address this "
    "signed-in session added): 400 `incorrect_code` for a wrong one; the attempt that "
    "spends the last of ACCOUNT_EMAIL_VERIFICATION_BY_CODE_MAX_ATTEMPTS ends the process, "
    "which is then 409 (as an expired one)."
)
document(
    VIEWS + "VerifyEmailApi",
    get=ApiOperation(
        "What a verification key (or code) verifies",
        {200: _ok(VerificationInfoResponse, "The address and its user.")},
        errors={
            400: [Code.REQUIRED, Code.INVALID_OR_EXPIRED_KEY, Code.INCORRECT_CODE],
            409: [Code.CONFLICT],
        },
        parameters=[
            OpenApiParameter(
                "X-Email-Verification-Key",
                str,
                OpenApiParameter.HEADER,
                True,
                KEY_HEADER + " By code: the code (a right one is not spent).",
            )
        ],
        description="A wrong code spends an attempt." + BY_CODE,
        tag=EMAIL_TAG,
    ),
    post=ApiOperation(
        "Verify an email address",
        {
            200: authenticated("Verified; signed in when it completed a pending signup/login."),
            401: not_authenticated(
                "Verified; the client is not signed in (or the next stage is pending: "
                "`mfa_authenticate`, or `mfa_signup_webauthn` for a passkey signup)."
            ),
        },
        errors={
            400: [Code.INVALID_OR_EXPIRED_KEY, Code.INCORRECT_CODE, Code.EMAIL_TAKEN],
            409: [Code.CONFLICT],
        },
        request=inputs.KeyInput,
        description="The key of the mailed link." + BY_CODE,
        tag=EMAIL_TAG,
    ),
)
document(
    VIEWS + "ResendVerificationApi",
    post=ApiOperation(
        "Resend the verification mail of the pending signup/login",
        {200: _ok(EmptyResponse, "Sent (or nothing to send, indistinguishably).")},
        errors={409: [Code.CONFLICT]},
        description="By code: a new code replaces the session's (two resends per process, "
        "as allauth's ACCOUNT_EMAIL_VERIFICATION_SUPPORTS_RESEND; 409 after), inside the "
        "address's cooldown 429.",
        tag=EMAIL_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "RequestPasswordResetApi",
    post=ApiOperation(
        "Mail a password reset link (or code)",
        {
            200: _ok(EmptyResponse, "Always, for a well-formed address (no enumeration)."),
            401: not_authenticated(
                "ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED: a code is mailed (or the note): "
                "`password_reset_by_code` flow with `is_pending`, whatever the address."
            ),
        },
        request=inputs.EmailInput,
        tag=RESET_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "ResetPasswordApi",
    get=ApiOperation(
        "Whose password a reset key resets",
        {200: _ok(ResetInfoResponse, "The key's user.")},
        errors={
            400: [Code.REQUIRED, Code.INVALID_OR_EXPIRED_KEY, Code.INCORRECT_CODE],
            409: [Code.CONFLICT],
        },
        description="By code (ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED) the header carries "
        "the mailed code: each wrong one spends an attempt (400 `incorrect_code`), the "
        "right one confirms the flow; without a pending flow, 409.",
        rate_limited=True,
        parameters=[
            OpenApiParameter(
                "X-Password-Reset-Key",
                str,
                OpenApiParameter.HEADER,
                True,
                "The key from the emailed link, or the mailed code (by code).",
            )
        ],
        tag=RESET_TAG,
    ),
    post=ApiOperation(
        "Reset the password",
        {401: not_authenticated("Reset; every session of the user ended: sign in again.")},
        errors={
            400: [Code.INVALID_OR_EXPIRED_KEY, Code.INCORRECT_CODE, *PASSWORD_CODES],
            409: [Code.CONFLICT],
        },
        request=inputs.ResetPasswordInput,
        tag=RESET_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "ReauthenticateApi",
    post=ApiOperation(
        "Confirm the password again before a sensitive change",
        {200: authenticated("Reauthenticated: a method with `reauthenticated` is added.")},
        errors={400: [Code.INCORRECT_PASSWORD]},
        request=inputs.ReauthenticateInput,
        description="The `reauthenticate` flow of a 401 ReauthenticationRequired: the "
        "sensitive changes then go through for ACCOUNT_REAUTHENTICATION_TIMEOUT seconds. "
        "Wallet users sign a challenge with process `reauthenticate` instead.",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "RequestReauthenticationCodeApi",
    post=ApiOperation(
        "Mail a reauthentication code to one of the user's verified addresses",
        {200: _ok(EmptyResponse, "Sent: `reauthenticate_by_code` is now pending.")},
        errors={400: [Code.UNKNOWN_EMAIL], 403: [Code.PERMISSION_DENIED]},
        request=inputs.EmailInput,
        description="One of the `recipients` of the `reauthenticate_by_code` flow; offered "
        "while ACCOUNT_LOGIN_BY_CODE_ENABLED is on (else 403).",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "ConfirmReauthenticationCodeApi",
    post=ApiOperation(
        "Reauthenticate with the mailed code",
        {200: authenticated("Reauthenticated: a method `code` with `reauthenticated`.")},
        errors={400: [Code.INCORRECT_CODE], 409: [Code.CONFLICT]},
        request=inputs.MailedCodeInput,
        tag=AUTH_TAG,
    ),
)
document(
    VIEWS + "ResendReauthenticationCodeApi",
    post=ApiOperation(
        "Mail a new reauthentication code",
        {200: _ok(EmptyResponse, "Sent.")},
        errors={409: [Code.CONFLICT]},
        description="With ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND, twice per flow.",
        tag=AUTH_TAG,
        rate_limited=True,
    ),
)
document(
    VIEWS + "ChangePasswordApi",
    post=ApiOperation(
        "Change the password (or set one, without `current_password`)",
        {200: authenticated("Changed; the token rotates and every other session ends.")},
        errors={400: [Code.ENTER_CURRENT_PASSWORD, *PASSWORD_CODES]},
        request=inputs.ChangePasswordInput,
        tag="Account: Password",
        rate_limited=True,
        reauthentication=True,
    ),
)


def _email_op(summary: str, request: type, *codes: str, step_up: bool = True) -> ApiOperation:
    # Every write to /account/email answers with the whole list.
    errors = {400: [Code.UNKNOWN_EMAIL, *codes]} if codes else {}
    return ApiOperation(
        summary,
        EMAIL_LIST,
        errors=errors,
        request=request,
        tag=EMAIL_TAG,
        rate_limited=True,
        reauthentication=step_up,
    )


document(
    VIEWS + "ManageEmailApi",
    get=ApiOperation("List the user's email addresses", EMAIL_LIST, tag=EMAIL_TAG),
    post=ApiOperation(
        "Add an email address (a verification mail is sent)",
        EMAIL_LIST,
        errors={400: [Code.EMAIL_TAKEN]},
        request=inputs.EmailInput,
        description="With enumeration prevention on, an address owned by someone else "
        "answers 200 unchanged and its owner is mailed instead.",
        tag=EMAIL_TAG,
        rate_limited=True,
        reauthentication=True,
    ),
    put=ApiOperation(
        "Resend an address's verification mail",
        EMAIL_LIST,
        errors={400: [Code.UNKNOWN_EMAIL, Code.INVALID], 403: [Code.RATE_LIMITED]},
        request=inputs.EmailInput,
        description="Inside the address's cooldown (the `confirm_email` rate) it answers "
        "403 `rate_limited` with Retry-After, as allauth answers 403.",
        tag=EMAIL_TAG,
        rate_limited=True,
    ),
    patch=_email_op(
        "Make a verified address primary", inputs.MarkPrimaryInput, Code.UNVERIFIED_PRIMARY_EMAIL
    ),
    delete=_email_op("Remove an address", inputs.EmailInput, Code.CANNOT_REMOVE_PRIMARY_EMAIL),
)
document(
    VIEWS + "SessionsApi",
    get=ApiOperation("List the user's sessions", SESSION_LIST, tag="Sessions"),
    delete=ApiOperation(
        "End sessions by id",
        {**SESSION_LIST},
        request=inputs.EndSessionsInput,
        description="Ending the current session signs out (401, `meta.is_authenticated: "
        "false`); ending any other needs a recent authentication (401 "
        "ReauthenticationRequired otherwise).",
        tag="Sessions",
        reauthentication=True,
    ),
)
