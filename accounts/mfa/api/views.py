"""The MFA half of allauth's headless API, for both clients."""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings

from accounts.api import responses
from accounts.api.base import AuthenticatedApi, HeadlessApi
from accounts.errors import ApiError, Code
from accounts.mfa import totp, webauthn
from accounts.mfa.api import inputs
from accounts.mfa.api.responses import authenticator_data
from accounts.mfa.flows import authenticate, manage, trust
from accounts.mfa.flows import webauthn as webauthn_flows
from accounts.mfa.models import Authenticator


class MfaApi(AuthenticatedApi):
    """An MFA change: its flow calls accounts.flows.reauthentication's
    require_reauthentication, which HeadlessApi answers as allauth does (401
    with the reauthentication flows, `mfa_reauthenticate` among them)."""


class AuthenticatorsApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        data = [authenticator_data(a) for a in manage.authenticator_list(user=request.user)]
        return responses.respond(request, data)


class TotpApi(MfaApi):
    def get(self, request, **kwargs):
        authenticator = manage.authenticator_get(request.user, Authenticator.Type.TOTP)
        if authenticator is not None:
            return responses.respond(request, authenticator_data(authenticator))
        secret = manage.totp_setup(request._request, user=request.user)
        issuer = settings.MFA_TOTP_ISSUER or request.get_host()
        url = totp.provisioning_uri(secret, label=manage.totp_label(request.user), issuer=issuer)
        svg = totp.qr_svg(url)
        meta = {
            "secret": secret,
            "totp_url": url,
            "totp_svg": svg,
            "totp_svg_data_uri": totp.svg_data_uri(svg),
        }
        return responses.respond(request, status=HTTPStatus.NOT_FOUND, meta=meta)

    def post(self, request, **kwargs):
        code = self.input(inputs.CodeInput)["code"]
        authenticator = manage.totp_activate(request._request, user=request.user, code=code)
        return responses.respond(request, authenticator_data(authenticator))

    def delete(self, request, **kwargs):
        manage.totp_deactivate(request._request, user=request.user)
        return responses.respond(request)


class RecoveryCodesApi(MfaApi):
    def get(self, request, **kwargs):
        found = manage.recovery_codes_view(request._request, user=request.user)
        if found is None:
            raise ApiError(404, Code.NOT_FOUND, "No recovery codes are set up.")
        authenticator, codes = found
        return responses.respond(request, authenticator_data(authenticator, codes=codes))

    def post(self, request, **kwargs):
        authenticator, codes = manage.recovery_codes_generate(request._request, user=request.user)
        return responses.respond(request, authenticator_data(authenticator, codes=codes))


class AuthenticateApi(HeadlessApi):
    def post(self, request, **kwargs):
        if request.user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
        stage = authenticate.pending_user(request._request)
        if stage is None:
            return responses.auth_response(request)  # no sign-in awaits a code: 401, flows
        user, pending = stage
        code = self.input(inputs.CodeInput)["code"]
        authenticate.mfa_authenticate(request._request, user=user, pending=pending, code=code)
        return responses.auth_response(request)


class TrustApi(HeadlessApi):
    """`mfa_trust` (browser client only, when MFA_TRUST_ENABLED: else 404, as
    allauth has no such route then; routed in trust_urls.py)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A method the view lacks stays 405 (DRF decides that after initial()).
        if hasattr(self, request.method.lower()) and not settings.MFA_TRUST_ENABLED:
            raise ApiError(404, Code.NOT_FOUND, "Trusting browsers is not enabled.")

    def post(self, request, **kwargs):
        if request.user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
        stage = authenticate.pending_user(request._request, trust.FLOW_TRUST)
        if stage is None:
            return responses.auth_response(request)  # no sign-in awaits the answer: 401, flows
        user, pending = stage
        choice = self.input(inputs.TrustInput)["trust"]
        value = trust.mfa_trust(request._request, user=user, pending=pending, trust=choice)
        response = responses.auth_response(request)
        if value is not None:
            trust.cookie_write(response, value)
        return response


class ReauthenticateApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        code = self.input(inputs.CodeInput)["code"]
        authenticate.mfa_reauthenticate(request._request, code=code)
        return responses.auth_response(request)


class WebAuthnApi(MfaApi):
    def get(self, request, **kwargs):
        options = webauthn_flows.webauthn_creation_options(
            request._request, user=request.user, passwordless="passwordless" in request.GET
        )
        return responses.respond(request, {"creation_options": options})

    def post(self, request, **kwargs):
        data = self.input(inputs.AddWebAuthnInput)
        authenticator, generated = webauthn_flows.webauthn_add(
            request._request, user=request.user, name=data["name"], credential=data["credential"]
        )
        meta = {"recovery_codes_generated": generated}
        return responses.respond(request, authenticator_data(authenticator), meta=meta)

    def put(self, request, **kwargs):
        data = self.input(inputs.UpdateWebAuthnInput)
        authenticator = webauthn_flows.webauthn_rename(
            request._request, user=request.user, authenticator_id=data["id"], name=data["name"]
        )
        return responses.respond(request, authenticator_data(authenticator))

    def delete(self, request, **kwargs):
        ids = self.input(inputs.DeleteWebAuthnInput)["authenticators"]
        webauthn_flows.webauthn_remove(request._request, user=request.user, authenticator_ids=ids)
        return responses.respond(request)


class WebAuthnAuthenticateApi(HeadlessApi):
    """`mfa_authenticate` with a WebAuthn assertion: options, then the credential."""

    def _stage(self, request):
        if request.user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
        return authenticate.pending_user(request._request)

    def get(self, request, **kwargs):
        stage = self._stage(request)
        if stage is None:
            return responses.auth_response(request)
        options = webauthn.authentication_begin(
            request._request, user=stage[0], purpose=webauthn.Purpose.AUTHENTICATE
        )
        return responses.respond(request, {"request_options": options})

    def post(self, request, **kwargs):
        stage = self._stage(request)
        if stage is None:
            return responses.auth_response(request)
        user, pending = stage
        credential = self.input(inputs.CredentialInput)["credential"]
        webauthn_flows.webauthn_authenticate(
            request._request, user=user, pending=pending, credential=credential
        )
        return responses.auth_response(request)


class WebAuthnReauthenticateApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        options = webauthn.authentication_begin(
            request._request, user=request.user, purpose=webauthn.Purpose.REAUTHENTICATE
        )
        return responses.respond(request, {"request_options": options})

    def post(self, request, **kwargs):
        credential = self.input(inputs.CredentialInput)["credential"]
        webauthn_flows.webauthn_reauthenticate(request._request, credential=credential)
        return responses.auth_response(request)


class WebAuthnLoginApi(HeadlessApi):
    """Passkey login, when MFA_PASSKEY_LOGIN_ENABLED (else 404, as allauth
    has no such route then)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A method the view lacks stays 405 (DRF decides that after initial()).
        handled = hasattr(self, request.method.lower())
        if handled and not settings.MFA_PASSKEY_LOGIN_ENABLED:
            raise ApiError(404, Code.NOT_FOUND, "Passkey login is not enabled.")
        if request.user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")

    def get(self, request, **kwargs):
        options = webauthn.authentication_begin(
            request._request, user=None, purpose=webauthn.Purpose.LOGIN
        )
        return responses.respond(request, {"request_options": options})

    def post(self, request, **kwargs):
        credential = self.input(inputs.CredentialInput)["credential"]
        webauthn_flows.webauthn_login(request._request, credential=credential)
        return responses.auth_response(request)


class WebAuthnSignupApi(HeadlessApi):
    """Passkey signup, when MFA_PASSKEY_SIGNUP_ENABLED (else 404, as allauth
    has no such route then): POST starts it (the address is verified by code
    next), GET gives the passkey's creation options and PUT registers it and
    signs in, both once `mfa_signup_webauthn` is pending (409 otherwise)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        handled = hasattr(self, request.method.lower())
        if handled and not webauthn_flows.passkey_signup_enabled():
            raise ApiError(404, Code.NOT_FOUND, "Passkey signup is not enabled.")
        if request.user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")

    def _pending_user(self, request):
        user = webauthn_flows.signup_pending_user(request._request)
        if user is None:
            raise ApiError(409, Code.CONFLICT, "No passkey signup is pending.")
        return user

    def post(self, request, **kwargs):
        email = self.input(inputs.SignupWebAuthnInput)["email"]
        webauthn_flows.webauthn_signup(request._request, email=email)
        return responses.auth_response(request)

    def get(self, request, **kwargs):
        user = self._pending_user(request)
        options = webauthn_flows.webauthn_signup_options(request._request, user=user)
        return responses.respond(request, {"creation_options": options})

    def put(self, request, **kwargs):
        user = self._pending_user(request)
        data = self.input(inputs.AddWebAuthnInput)
        webauthn_flows.webauthn_signup_complete(
            request._request, user=user, name=data["name"], credential=data["credential"]
        )
        return responses.auth_response(request)
