"""The email half of the headless API (allauth's account + usersessions views)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.api import inputs, responses
from accounts.api.base import AuthenticatedApi, HeadlessApi, reauthentication_required
from accounts.api.errors import ApiError, Code
from accounts.flows import email_verification, manage_email, password_change, password_reset
from accounts.flows import login as login_flow
from accounts.flows import signup as signup_flow
from accounts.flows.authentication import (
    Method,
    complete_login,
    end_sessions,
    get_pending,
    logout_user,
    method_record,
    user_sessions,
)
from accounts.flows.reauthentication import require_reauthentication
from accounts.ratelimit import Action, consume
from accounts.sessions import public_id
from accounts.signals import Event, emit

config_extensions: list = []
RESEND_COOLDOWN = "Too many verification mails were sent to this address; try again later."


def _already_authenticated(request) -> None:
    if request.user.is_authenticated:
        raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")


class ConfigApi(HeadlessApi):
    def get(self, request, **kwargs):
        data = {
            "account": {
                "login_methods": ["email"],
                "is_open_for_signup": settings.ACCOUNT_SIGNUP_OPEN,
                "email_verification": settings.ACCOUNT_EMAIL_VERIFICATION,
                "email_verification_by_code_enabled": False,
                "login_by_code_enabled": False,
                "password_reset_by_code_enabled": False,
                "authentication_method": "email",
            },
            "usersessions": {"track_activity": True},
        }
        for extend in config_extensions:
            data.update(extend(request))
        return responses.respond(request, data)


class SessionApi(HeadlessApi):
    # The hottest read of the API (clients poll it) takes DRF's dispatch like
    # every endpoint, so what HeadlessApi.initial enforces applies here too.
    # Skipping it saved ~65 us of CPU per GET in-process (tests/benchmarks/README.md).
    def get(self, request, **kwargs):
        return responses.auth_response(request)

    def delete(self, request, **kwargs):
        logout_user(request._request)
        return responses.auth_response(request)


class SignupApi(HeadlessApi):
    def post(self, request, **kwargs):
        data = self.input(inputs.SignupInput)
        _already_authenticated(request)
        if not settings.ACCOUNT_SIGNUP_OPEN:
            raise ApiError(403, Code.SIGNUP_CLOSED, "Signup is closed.")
        consume(request, Action.SIGNUP)
        signup_flow.signup(request._request, email=data["email"], password=data["password"])
        return responses.auth_response(request)


class LoginApi(HeadlessApi):
    def post(self, request, **kwargs):
        data = self.input(inputs.LoginInput)
        _already_authenticated(request)
        login_flow.password_login(request._request, email=data["email"], password=data["password"])
        return responses.auth_response(request)


class VerifyEmailApi(HeadlessApi):
    def get(self, request, **kwargs):
        key = request.headers.get("X-Email-Verification-Key", "")
        if not key:
            raise ApiError(400, Code.REQUIRED, "This field is required.", "key")
        address = email_verification.address_for_key(key)
        pending = get_pending(request, email_verification.FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)
        data = {"email": address.email, "user": responses.serialize_user(address.user)}
        is_authenticating = bool(pending and pending.get("user") == address.user_id)
        return responses.respond(request, data, meta={"is_authenticating": is_authenticating})

    def post(self, request, **kwargs):
        key = self.input(inputs.KeyInput)["key"]
        with transaction.atomic():
            address = email_verification.confirm(
                request._request, email_verification.address_for_key(key)
            )
        pending = get_pending(request, email_verification.FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)
        if pending and pending.get("user") == address.user_id and address.primary:
            record = method_record(Method.PASSWORD, email=address.email)
            complete_login(request._request, user=address.user, record=record)
        return responses.auth_response(request)


class ResendVerificationApi(HeadlessApi):
    def post(self, request, **kwargs):
        pending = get_pending(request, email_verification.FLOW, settings.ACCOUNT_LOGIN_TIMEOUT)
        if not pending:
            raise ApiError(409, Code.CONFLICT, "No email verification is pending.")
        address = manage_email.primary_address(pending.get("user"))
        if address is None:
            # The "account already exists" path: nothing to resend, same answer.
            consume(request, Action.CONFIRM_EMAIL, key=str(request.session.session_key))
        elif not address.verified:
            email_verification.send_verification(request._request, address)
        return responses.respond(request)


class RequestPasswordResetApi(HeadlessApi):
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        password_reset.request_reset(request._request, email=email)
        return responses.respond(request)


class ResetPasswordApi(HeadlessApi):
    def get(self, request, **kwargs):
        key = request.headers.get("X-Password-Reset-Key", "")
        if not key:
            raise ApiError(400, Code.REQUIRED, "This field is required.", "key")
        user = password_reset.user_for_key(key)
        return responses.respond(request, {"user": responses.serialize_user(user)})

    def post(self, request, **kwargs):
        data = self.input(inputs.ResetPasswordInput)
        password_reset.reset_password(request._request, key=data["key"], password=data["password"])
        if request.user.is_authenticated:
            logout_user(request._request)
        return responses.auth_response(request)


class ReauthenticateApi(AuthenticatedApi):
    def post(self, request, **kwargs):
        password = self.input(inputs.ReauthenticateInput)["password"]
        login_flow.reauthenticate(request._request, password=password)
        return responses.auth_response(request)


class ChangePasswordApi(AuthenticatedApi):
    @reauthentication_required
    def post(self, request, **kwargs):
        data = self.input(inputs.ChangePasswordInput)
        password_change.change_password(
            request._request,
            current_password=data.get("current_password", ""),
            new_password=data["new_password"],
        )
        return responses.auth_response(request)


def _email_list(request):
    addresses = manage_email.email_addresses(request.user)
    data = [{"email": a.email, "primary": a.primary, "verified": a.verified} for a in addresses]
    return responses.respond(request, data)


class ManageEmailApi(AuthenticatedApi):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "GET":
            consume(request, Action.MANAGE_EMAIL, user=request.user)

    def get(self, request, **kwargs):
        return _email_list(request)

    @reauthentication_required
    def post(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        manage_email.email_address_add(request._request, user=request.user, email=email)
        return _email_list(request)

    def put(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        try:
            manage_email.email_address_resend(request._request, user=request.user, email=email)
        except ApiError as error:
            if error.status != 429:
                raise
            # Inside the address's cooldown allauth answers 403 ("too many
            # verification mails"), not 429; the code `rate_limited` says why.
            raise ApiError(
                403, Code.RATE_LIMITED, RESEND_COOLDOWN, "email", headers=error.headers
            ) from None
        return _email_list(request)

    @reauthentication_required
    def patch(self, request, **kwargs):
        email = self.input(inputs.MarkPrimaryInput)["email"]
        manage_email.email_address_make_primary(user=request.user, email=email)
        return _email_list(request)

    @reauthentication_required
    def delete(self, request, **kwargs):
        email = self.input(inputs.EmailInput)["email"]
        manage_email.email_address_remove(request._request, user=request.user, email=email)
        return _email_list(request)


def _ts(value) -> float | None:
    return value.timestamp() if value else None


class SessionsApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        return self._list(request)

    def delete(self, request, **kwargs):
        ids = list(dict.fromkeys(self.input(inputs.EndSessionsInput)["sessions"]))
        sessions = {s.public_id: s.session_key for s in user_sessions(request.user)}
        unknown = [str(i) for i in ids if i not in sessions]
        if unknown:
            # allauth's answer (a ModelMultipleChoiceField): 400 invalid_choice.
            message = "Unknown session id: " + ", ".join(unknown)
            raise ApiError(400, Code.INVALID_CHOICE, message, "sessions")
        current = public_id(request.session, request.session.session_key)
        others = [i for i in ids if i != current]
        if others:  # ending only this session (a logout) needs no step-up
            require_reauthentication(request)
        end_sessions([sessions[i] for i in others])
        for _ in others:
            emit(request._request, Event.SESSION_ENDED, user=request.user)
        if current in ids:
            logout_user(request._request)
            return responses.auth_response(request)
        return self._list(request)

    def _list(self, request):
        current = public_id(request.session, request.session.session_key)
        data = [
            {
                "id": s.public_id,
                "created_at": _ts(s.created_at),
                "last_seen_at": _ts(s.last_seen_at),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "is_current": s.public_id == current,
            }
            for s in user_sessions(request.user)
        ]
        return responses.respond(request, data)
