"""WebAuthn ceremonies with `fido2` (what allauth uses), bound to
WEBAUTHN_RP_ID and the exact WEBAUTHN_ORIGINS.

Challenges are single use, in Redis as wallet challenges are
(wallets.challenges): the options' challenge is stored under a random id with
its purpose and user, the session keeps only that id, and verifying takes the
challenge out with GETDEL, so a captured response replayed (or two racing
posts of one) finds nothing. An authenticator's data holds its name and its
attested credential data (the public key: not a secret, but never shown);
`counter` holds the last signature counter, which only moves forward, by a
conditional UPDATE (sign_count_advance).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts import redis as signet_redis
from accounts.errors import ApiError, Code
from accounts.mfa.models import Authenticator

KEY_PARTS = ("mfa", "webauthn", "challenge")
# The session's pointer to the current ceremony's challenge (never the challenge).
SESSION_CHALLENGE = "signet.mfa.webauthn.challenge"
CHALLENGE_TTL = 300
# Bounds the JSON a client may post as a credential: ample for any real
# attestation (a few KB), cheap to refuse beyond.
MAX_CREDENTIAL_BYTES = 64 * 1024
EXTENSIONS = {"credProps": True}


class Purpose:
    REGISTER = "register"
    AUTHENTICATE = "authenticate"
    REAUTHENTICATE = "reauthenticate"
    LOGIN = "login"
    SIGNUP = "signup"


def incorrect() -> ApiError:
    # allauth answers every failed ceremony with `incorrect_code` on `credential`.
    return ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", "credential")


def _origin_allowed(origin: str) -> bool:
    return origin in settings.WEBAUTHN_ORIGINS


def server() -> Fido2Server:
    rp = PublicKeyCredentialRpEntity(name=settings.WEBAUTHN_RP_NAME, id=settings.WEBAUTHN_RP_ID)
    return Fido2Server(rp, verify_origin=_origin_allowed)


def _key(challenge_id: str) -> str:
    return signet_redis.redis_key(*KEY_PARTS, challenge_id)


def _challenge_store(request: HttpRequest, state: dict, *, purpose: str, user_id) -> None:
    challenge_id = secrets.token_urlsafe(16)
    value = json.dumps({**state, "purpose": purpose, "user": user_id})
    signet_redis.redis_client().set(_key(challenge_id), value, nx=True, ex=CHALLENGE_TTL)
    request.session[SESSION_CHALLENGE] = challenge_id


def _challenge_consume(request: HttpRequest, *, purpose: str, user_id) -> dict:
    """The challenge this session was given for `purpose` (and `user_id`),
    taken out of Redis: a second call finds nothing."""
    challenge_id = request.session.pop(SESSION_CHALLENGE, None)
    if not isinstance(challenge_id, str):
        raise incorrect()
    raw = signet_redis.redis_client().getdel(_key(challenge_id))
    state = json.loads(raw) if raw is not None else None
    if not state or state.pop("purpose") != purpose or state.pop("user") != user_id:
        raise incorrect()
    return state


def _user_entity(user) -> PublicKeyCredentialUserEntity:
    # The user handle is the primary key, as allauth's; passkey login reads it back.
    name = user.email or user.display
    return PublicKeyCredentialUserEntity(
        id=str(user.pk).encode(), name=name, display_name=user.display or name
    )


def credentials(user) -> list[AttestedCredentialData]:
    rows = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.WEBAUTHN)
    return [credential_data(a) for a in rows]


def credential_data(authenticator: Authenticator) -> AttestedCredentialData:
    return AttestedCredentialData(websafe_decode(authenticator.data["credential"]))


def registration_begin(request: HttpRequest, *, user, passwordless: bool, purpose: str) -> dict:
    """Creation options; a passkey needs a resident key and user verification."""
    options, state = server().register_begin(
        user=_user_entity(user),
        credentials=credentials(user),
        resident_key_requirement=(
            ResidentKeyRequirement.REQUIRED if passwordless else ResidentKeyRequirement.DISCOURAGED
        ),
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if passwordless
            else UserVerificationRequirement(settings.MFA_WEBAUTHN_USER_VERIFICATION)
        ),
        extensions=EXTENSIONS,
    )
    state = {**state, "passwordless": passwordless}
    _challenge_store(request, state, purpose=purpose, user_id=user.pk)
    return dict(options)


def _parse(cls, credential):
    if not isinstance(credential, dict) or len(json.dumps(credential)) > MAX_CREDENTIAL_BYTES:
        raise incorrect()
    try:
        return cls.from_dict(credential)
    except (TypeError, ValueError, KeyError, AttributeError):
        raise incorrect() from None


@dataclass(frozen=True)
class Registered:
    data: dict
    sign_count: int
    passwordless: bool | None


def registration_complete(request: HttpRequest, *, user, credential, purpose: str) -> Registered:
    response = _parse(RegistrationResponse, credential)
    state = _challenge_consume(request, purpose=purpose, user_id=user.pk)
    try:
        auth_data = server().register_complete(state, response)
    except ValueError:
        raise incorrect() from None
    if state.get("passwordless") and not auth_data.is_user_verified():
        raise incorrect()
    cred_props = (credential.get("clientExtensionResults") or {}).get("credProps") or {}
    rk = cred_props.get("rk") if isinstance(cred_props, dict) else None
    data = {
        "credential": websafe_encode(bytes(auth_data.credential_data)),
        "credential_id": websafe_encode(auth_data.credential_data.credential_id),
    }
    return Registered(data, auth_data.counter, rk if isinstance(rk, bool) else None)


def authentication_begin(request: HttpRequest, *, user, purpose: str) -> dict:
    """Request options: for `user`'s credentials (second factor), or for any
    discoverable one (passkey login: user verification required)."""
    uv = (
        UserVerificationRequirement(settings.MFA_WEBAUTHN_USER_VERIFICATION)
        if user is not None
        else UserVerificationRequirement.REQUIRED
    )
    options, state = server().authenticate_begin(
        credentials=credentials(user) if user is not None else [], user_verification=uv
    )
    _challenge_store(
        request, dict(state), purpose=purpose, user_id=user.pk if user is not None else None
    )
    return dict(options)


def user_handle(credential) -> str | None:
    """The user handle a passkey assertion names (unverified until checked)."""
    response = _parse(AuthenticationResponse, credential)
    handle = response.response.user_handle
    return handle.decode("ascii", "replace") if handle else None


def authentication_complete(
    request: HttpRequest, *, user, credential, purpose: str, bound_user_id
) -> Authenticator:
    """The authenticator `credential` is a valid, fresh assertion of."""
    response = _parse(AuthenticationResponse, credential)
    state = _challenge_consume(request, purpose=purpose, user_id=bound_user_id)
    rows = list(Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.WEBAUTHN))
    try:
        found = server().authenticate_complete(state, [credential_data(a) for a in rows], response)
    except ValueError:
        raise incorrect() from None
    authenticator = next(a for a in rows if credential_data(a).credential_id == found.credential_id)
    if not sign_count_advance(authenticator, response.response.authenticator_data.counter):
        raise incorrect()
    return authenticator


def sign_count_advance(authenticator: Authenticator, count: int) -> bool:
    """Record `count`; False when it does not move forward for an
    authenticator that counts (a cloned credential). One that always sends 0
    does not count (passkeys synced between devices), so 0 after 0 passes.
    The conditional UPDATE makes two racing assertions of one count fail one."""
    rows = Authenticator.objects.filter(pk=authenticator.pk)
    now = timezone.now()
    if count == 0:
        updated = rows.filter(counter=0).update(last_used_at=now)
    else:
        updated = rows.filter(counter__lt=count).update(counter=count, last_used_at=now)
    if updated:
        authenticator.counter, authenticator.last_used_at = count, now
    return bool(updated)
