"""The email half of the headless API (allauth's account + usersessions views).

Each view validates its input, calls one flow and renders a response
(accounts.api.responses). Rate limits are counted in the flows, never here:
the keyed ones (per email, per user) and the given-back ones (a failed
login's attempt, when the login succeeds) need what only the flow knows,
so the flow is their one home; its first lines name the actions it counts.
"""

from __future__ import annotations

from accounts.api import inputs, responses
from accounts.api.base import AuthenticatedApi, HeadlessApi, reauthentication_required
from accounts.errors import ApiError, Code
from accounts.flows import (
    email_verification,
    login_by_code,
    manage_email,
    password_change,
    password_reset,
    password_reset_by_code,
    reauthenticate_by_code,
)
from accounts.flows.password_login import password_login, password_reauthenticate
from accounts.flows.signin import user_logout, user_sessions, user_sessions_end
from accounts.flows.signup import user_signup
from accounts.sessions import public_id


def _already_authenticated(request) -> None:
    if request.user.is_authenticated:
        raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")


class ConfigApi(HeadlessApi):
    def get(self, request, **kwargs):
        return responses.respond(request, responses.config_data(request))


class SessionApi(HeadlessApi):
    # The hottest read of the API (clients poll it) takes DRF's dispatch like
    # every endpoint, so what HeadlessApi.initial enforces applies here too
    # (its cost: tests/benchmarks/README.md).
    def get(self, request, **kwargs):
        return responses.auth_response(request)

    def delete(self, request, **kwargs):
        user_logout(request._request)
        return responses.auth_response(request)


class SignupApi(HeadlessApi):
    def post(self, request, **kwargs):
        data = self.input(inputs.SignupInput)
        _already_authenticated(request)
        user_signup(request._request, email=data["email"], password=data["password"])
        return responses.auth_response(request)


class LoginApi(HeadlessApi):
    def post(self, request, **kwargs):
        data = self.input(inputs.LoginInput)
        _already_authenticated(request)
        password_login(request._request, email=data["email"], password=data["password"])
        return responses.auth_response(request)


class RequestLoginCodeApi(HeadlessApi):
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        _already_authenticated(request)
        login_by_code.login_code_request(request._request, email=email)
        return responses.auth_response(request)


class ConfirmLoginCodeApi(HeadlessApi):
    def post(self, request, **kwargs):
        code = self.input(inputs.MailedCodeInput)["code"]
        login_by_code.login_code_confirm(request._request, code=code)
        return responses.auth_response(request)


class ResendLoginCodeApi(HeadlessApi):
    def post(self, request, **kwargs):
        login_by_code.login_code_resend(request._request)
        return responses.respond(request)


class VerifyEmailApi(HeadlessApi):
    def get(self, request, **kwargs):
        key = self.input(inputs.VerificationKeyHeader)["key"]
        address, authenticating = email_verification.email_verification_info(
            request._request, key=key
        )
        data = responses.email_verification_data(address)
        return responses.respond(request, data, meta={"is_authenticating": authenticating})

    def post(self, request, **kwargs):
        key = self.input(inputs.KeyInput)["key"]
        email_verification.email_address_verify(request._request, key=key)
        return responses.auth_response(request)


class ResendVerificationApi(HeadlessApi):
    def post(self, request, **kwargs):
        email_verification.email_verification_resend(request._request)
        return responses.respond(request)


class RequestPasswordResetApi(HeadlessApi):
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        password_reset.password_reset_request(request._request, email=email)
        if password_reset_by_code.enabled():
            return responses.auth_response(request)  # 401: password_reset_by_code pending
        return responses.respond(request)


class ResetPasswordApi(HeadlessApi):
    def get(self, request, **kwargs):
        key = self.input(inputs.PasswordResetKeyHeader)["key"]
        user = password_reset.password_reset_user(request._request, key=key)
        return responses.respond(request, responses.password_reset_data(user))

    def post(self, request, **kwargs):
        data = self.input(inputs.ResetPasswordInput)
        password_reset.password_reset_confirm(
            request._request, key=data["key"], password=data["password"]
        )
        if request.user.is_authenticated:
            user_logout(request._request)
        return responses.auth_response(request)


class ReauthenticateApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        password = self.input(inputs.ReauthenticateInput)["password"]
        password_reauthenticate(request._request, password=password)
        return responses.auth_response(request)


class RequestReauthenticationCodeApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        reauthenticate_by_code.reauthentication_code_request(request._request, email=email)
        return responses.respond(request)


class ConfirmReauthenticationCodeApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        code = self.input(inputs.MailedCodeInput)["code"]
        reauthenticate_by_code.reauthentication_code_confirm(request._request, code=code)
        return responses.auth_response(request)


class ResendReauthenticationCodeApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        reauthenticate_by_code.reauthentication_code_resend(request._request)
        return responses.respond(request)


class ChangePasswordApi(AuthenticatedApi):
    @reauthentication_required
    def post(self, request, **kwargs):
        data = self.input(inputs.ChangePasswordInput)
        password_change.password_change(
            request._request,
            current_password=data.get("current_password", ""),
            new_password=data["new_password"],
        )
        return responses.auth_response(request)


class ManageEmailApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        return self._list(request)

    @reauthentication_required
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        manage_email.email_address_add(request._request, user=request.user, email=email)
        return self._list(request)

    def put(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        manage_email.email_address_resend(request._request, user=request.user, email=email)
        return self._list(request)

    @reauthentication_required
    def patch(self, request, **kwargs):
        email = self.input(inputs.MarkPrimaryInput)["email"]
        manage_email.email_address_make_primary(request._request, user=request.user, email=email)
        return self._list(request)

    @reauthentication_required
    def delete(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        manage_email.email_address_remove(request._request, user=request.user, email=email)
        return self._list(request)

    def _list(self, request):
        addresses = manage_email.email_address_list(user=request.user)
        return responses.respond(request, responses.email_addresses_data(addresses))


class SessionsApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        return self._list(request)

    def delete(self, request, **kwargs):
        ids = self.input(inputs.EndSessionsInput)["sessions"]
        if user_sessions_end(request._request, ids=ids):
            return responses.auth_response(request)
        return self._list(request)

    def _list(self, request):
        current = public_id(request.session, request.session.session_key)
        data = responses.sessions_data(user_sessions(request.user), current=current)
        return responses.respond(request, data)
