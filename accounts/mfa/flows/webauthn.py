"""WebAuthn as a second factor: adding, renaming and removing credentials,
and completing a sign-in or a reauthentication with an assertion; passkey
login and passkey signup.

Every change needs a recent authentication and emits an audit event, as the
TOTP ones (manage.py); rows change under a lock on the user row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from accounts.errors import ApiError, Code
from accounts.flows.reauthentication import require_reauthentication
from accounts.flows.signin import add_method, get_pending, login_user, method_record
from accounts.flows.signup import user_signup
from accounts.mfa import checks, webauthn
from accounts.mfa.flows.authenticate import second_factor_passed
from accounts.mfa.flows.manage import (
    _recovery_codes_create,
    authenticator_get,
    can_add_authenticator,
)
from accounts.mfa.models import Authenticator
from accounts.models import User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, Outcome, emit

Type = Authenticator.Type
METHOD = "mfa"
# Plain strings for the audit detail and method records (not the enum).
WEBAUTHN = Type.WEBAUTHN.value
Purpose = webauthn.Purpose
# allauth's passkey signup stage (its Flow.MFA_SIGNUP_WEBAUTHN), pending once
# the address is verified; the signup's audit method.
FLOW_SIGNUP = "mfa_signup_webauthn"
SIGNUP_METHOD = "passkey"


def _name_default(user) -> str:
    # allauth's names, so the SPA shows what it would against allauth.
    count = Authenticator.objects.filter(user_id=user.pk, type=WEBAUTHN).count()
    return ["Master key", "Backup key"][count] if count < 2 else f"Key nr. {count + 1}"


def webauthn_creation_options(request: HttpRequest, *, user, passwordless: bool) -> dict:
    require_reauthentication(request)
    can_add_authenticator(user)
    return webauthn.registration_begin(
        request, user=user, passwordless=passwordless, purpose=Purpose.REGISTER
    )


def webauthn_add(
    request: HttpRequest, *, user, name: str, credential
) -> tuple[Authenticator, bool]:
    """Register the credential the creation options asked for; recovery codes
    come with the first factor, as in allauth. True: codes were generated."""
    require_reauthentication(request)
    can_add_authenticator(user)
    registered = webauthn.registration_complete(
        request, user=user, credential=credential, purpose=Purpose.REGISTER
    )
    return _create(request, user=user, name=name, registered=registered, recovery_codes=True)


def _create(request: HttpRequest, *, user, name: str, registered, recovery_codes: bool):
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        rows = Authenticator.objects.filter(user_id=user.pk, type=WEBAUTHN)
        if rows.filter(data__credential_id=registered.data["credential_id"]).exists():
            raise ApiError(409, Code.CONFLICT, "This key is already registered.")
        data = {"name": name or _name_default(user), **registered.data}
        if registered.passwordless is not None:
            data["passwordless"] = registered.passwordless
        authenticator = Authenticator.objects.create(
            user=user, type=Type.WEBAUTHN, data=data, counter=registered.sign_count
        )
        codes = None
        if recovery_codes and authenticator_get(user, Type.RECOVERY_CODES) is None:
            codes = _recovery_codes_create(user)
    emit(request, Event.MFA_AUTHENTICATOR_ADDED, user=user, method=METHOD, type=WEBAUTHN)
    if codes is not None:
        emit(
            request, Event.MFA_AUTHENTICATOR_ADDED, user=user, method=METHOD,
            type=Type.RECOVERY_CODES.value,
        )  # fmt: skip
    return authenticator, codes is not None


def _own(user, ids) -> list[Authenticator]:
    rows = list(Authenticator.objects.filter(user_id=user.pk, type=Type.WEBAUTHN, pk__in=ids))
    if len(rows) != len(set(ids)):
        raise ApiError(400, Code.INVALID, "Select a valid choice.", "authenticators")
    return rows


def webauthn_rename(
    request: HttpRequest, *, user, authenticator_id: int, name: str
) -> Authenticator:
    authenticator = Authenticator.objects.filter(
        user_id=user.pk, type=Type.WEBAUTHN, pk=authenticator_id
    ).first()
    if authenticator is None:
        raise ApiError(400, Code.INVALID, "Select a valid choice.", "id")
    require_reauthentication(request)
    with transaction.atomic():
        locked = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
        locked.data["name"] = name
        locked.save(update_fields=["data"])
    emit(request, Event.MFA_AUTHENTICATOR_RENAMED, user=user, method=METHOD, type=WEBAUTHN)
    return locked


def webauthn_remove(request: HttpRequest, *, user, authenticator_ids: list[int]) -> None:
    """Remove the credentials, and the recovery codes they leave dangling (allauth)."""
    _own(user, authenticator_ids)
    require_reauthentication(request)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        removed = Authenticator.objects.filter(
            user_id=user.pk, type=Type.WEBAUTHN, pk__in=authenticator_ids
        ).delete()[0]
        dangling = Authenticator.objects.filter(user_id=user.pk)
        dangling_types = []
        if not dangling.exclude(type=Type.RECOVERY_CODES).exists():
            dangling_types = list(dangling.values_list("type", flat=True))
            dangling.delete()
    for type_ in [WEBAUTHN] * removed + dangling_types:
        emit(request, Event.MFA_AUTHENTICATOR_REMOVED, user=user, method=METHOD, type=type_)


def _verified(request: HttpRequest, *, user, credential, purpose: str, event: str):
    attempt = consume(request, Action.MFA_AUTHENTICATE, user=user)
    try:
        authenticator = webauthn.authentication_complete(
            request, user=user, credential=credential, purpose=purpose, bound_user_id=user.pk
        )
    except ApiError:
        emit(request, event, user=user, outcome=Outcome.FAILURE, method=METHOD, type=WEBAUTHN)
        raise
    attempt.refund()
    return authenticator


def webauthn_authenticate(request: HttpRequest, *, user, pending: dict, credential) -> None:
    """Complete the pending `mfa_authenticate` sign-in with an assertion."""
    authenticator = _verified(
        request, user=user, credential=credential, purpose=Purpose.AUTHENTICATE,
        event=Event.MFA_AUTHENTICATED,
    )  # fmt: skip
    emit(request, Event.MFA_AUTHENTICATED, user=user, method=METHOD, type=WEBAUTHN)
    record = method_record(METHOD, id=authenticator.pk, type=WEBAUTHN)
    second_factor_passed(request, user=user, pending=pending, record=record)


def webauthn_reauthenticate(request: HttpRequest, *, credential) -> None:
    user = request.user
    authenticator = _verified(
        request, user=user, credential=credential, purpose=Purpose.REAUTHENTICATE,
        event=Event.REAUTHENTICATED,
    )  # fmt: skip
    record = method_record(METHOD, id=authenticator.pk, type=WEBAUTHN, reauthenticated=True)
    add_method(request, record)
    emit(request, Event.REAUTHENTICATED, user=user, method=METHOD, type=WEBAUTHN)


def _passkey_user(credential) -> User:
    handle = webauthn.user_handle(credential)
    user = None
    if handle and handle.isdigit() and len(handle) < 20:
        user = User.objects.filter(pk=int(handle), is_active=True).first()
    if user is None:
        raise webauthn.incorrect()
    return user


def webauthn_login(request: HttpRequest, *, credential) -> None:
    """Passkey login (`mfa_login_webauthn`): the assertion of a discoverable
    key, user verified, is both factors, so no `mfa_authenticate` stage
    follows (allauth). The user handle only says whose keys to check it
    against: an unverified claim until the signature matches one of them."""
    attempt = consume(request, Action.LOGIN)
    user = _passkey_user(credential)
    try:
        authenticator = webauthn.authentication_complete(
            request, user=user, credential=credential, purpose=Purpose.LOGIN, bound_user_id=None
        )
    except ApiError:
        emit(request, Event.LOGIN, user=user, outcome=Outcome.FAILURE, method=METHOD)
        raise
    attempt.refund()
    record = method_record(METHOD, id=authenticator.pk, type=WEBAUTHN, passwordless=True)
    login_user(request, user, record)


# --- Passkey signup (MFA_PASSKEY_SIGNUP_ENABLED) ------------------------------------


def passkey_signup_enabled() -> bool:
    """MFA_PASSKEY_SIGNUP_ENABLED with what it needs. accounts.mfa.checks stops
    start-up without it (manage.py and config.wsgi run the checks); should a
    process start regardless, it still never opens a passwordless account
    that signs straight in."""
    return settings.MFA_PASSKEY_SIGNUP_ENABLED and not checks.passkey_signup()


def webauthn_signup(request: HttpRequest, *, email: str) -> None:
    """Start a passkey signup: a user with no password, its address to verify
    by code (`verify_email` pending, then `mfa_signup_webauthn`). Signup's own
    rules apply: a taken address answers the same (accounts.flows.signup)."""
    user_signup(request, email=email, password=None, method=SIGNUP_METHOD, then=FLOW_SIGNUP)


def signup_pending_user(request: HttpRequest) -> User | None:
    """The user whose verified signup awaits its passkey, if this session has one."""
    pending = get_pending(request, FLOW_SIGNUP, settings.ACCOUNT_LOGIN_TIMEOUT)
    if not pending or pending.get("user") is None:
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def webauthn_signup_options(request: HttpRequest, *, user) -> dict:
    """Creation options for the signup's passkey: a resident key, user
    verification required (as passkey login's)."""
    return webauthn.registration_begin(
        request, user=user, passwordless=True, purpose=Purpose.SIGNUP
    )


def webauthn_signup_complete(request: HttpRequest, *, user, name: str, credential) -> None:
    """Register the passkey and sign in with it. It is both factors (the key,
    user-verified), so no `mfa_authenticate` stage follows, as in allauth's
    PasskeySignupStage; and no recovery codes are made (allauth's
    signup_authenticator makes none: the user adds them later)."""
    registered = webauthn.registration_complete(
        request, user=user, credential=credential, purpose=Purpose.SIGNUP
    )
    authenticator, _codes = _create(
        request, user=user, name=name, registered=registered, recovery_codes=False
    )
    record = method_record(METHOD, id=authenticator.pk, type=WEBAUTHN, passwordless=True)
    login_user(request, user, record)
