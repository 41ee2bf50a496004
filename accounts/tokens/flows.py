"""Issuing, verifying and rotating the app client's JWTs.

The access token is an ES256 JWT verified by signature and claims alone (no
database or Redis read), so it stays valid until `exp` even after its session
ends: keep JWT_ACCESS_TOKEN_LIFETIME short. The refresh token is opaque
(random, stored hashed) and checked against the database on every use, and
against its session: once the session is gone (logout, ended from the session
list, password change or reset elsewhere) its refresh tokens are refused.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from datetime import timedelta

import jwt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import sessions as skeys
from accounts.errors import ApiError, Code
from accounts.models import UserSession
from accounts.tokens import keys
from accounts.tokens.models import RefreshToken

JWT = "jwt"
# Session method records -> RFC 8176 `amr` values (allauth's method names).
_AMR = {"password": "pwd", "password_reset": "pwd", "wallet": "wallet", "mfa": "mfa"}
# PyJWT checks these exist; iss/aud/exp/nbf values are checked too.
_REQUIRED = ["sub", "sid", "iat", "nbf", "exp", "jti", "iss", "aud"]
_REFRESH_MAX = 256  # longer is no token of ours; do not even hash it


def enabled() -> bool:
    return settings.SIGNET_TOKEN_STRATEGY == JWT


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_amr(session) -> tuple[list[str], str]:
    amr: list[str] = []
    chain = ""
    for record in session.get(skeys.METHODS, []):
        value = _AMR.get(record.get("method"), record.get("method"))
        if value and value not in amr:
            amr.append(value)
        if record.get("method") == "wallet":
            chain = record.get("chain", "")
    return amr, chain


def access_token_encode(*, user_id: int, sid: int, amr: list[str], chain: str) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "sub": str(user_id),
        "sid": sid,
        "iat": now,
        "nbf": now,
        "exp": now + settings.JWT_ACCESS_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "amr": amr,
    }
    if chain:
        claims["chain"] = chain
    key = keys.current_key()
    return jwt.encode(claims, key.private_key, algorithm=keys.ALGORITHM, headers={"kid": key.kid})


def access_token_decode(token: str) -> dict | None:
    """The claims of a valid access token of ours, else None.

    Only ES256 is accepted and only with our public keys picked by `kid`:
    `alg: none` and HS256 signed with a public key fail before any claim is read.
    """
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.verification_keys().get(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        return jwt.decode(
            token,
            key,
            algorithms=[keys.ALGORITHM],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
            options={"require": _REQUIRED},
        )
    except jwt.PyJWTError:
        return None


def _refresh_token_create(*, user_id: int, sid: int, family, amr, chain) -> str:
    token = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        user_id=user_id,
        session_public_id=sid,
        family=family,
        token_hash=_hash(token),
        amr=amr,
        chain=chain,
        expires_at=timezone.now() + timedelta(seconds=settings.JWT_REFRESH_TOKEN_LIFETIME),
    )
    return token


def tokens_issue(request: HttpRequest, meta: dict | None = None) -> dict:
    """meta.access_token and meta.refresh_token for a newly signed-in session."""
    session = request.session
    if not enabled() or SESSION_KEY not in session or session.get(skeys.PENDING):
        return {}
    user_id = int(session[SESSION_KEY])
    sid = skeys.public_id(session, session.session_key)
    amr, chain = session_amr(session)
    kwargs = {"user_id": user_id, "sid": sid, "amr": amr, "chain": chain}
    refresh = _refresh_token_create(family=uuid.uuid4(), **kwargs)
    access = access_token_encode(**kwargs)
    return {"access_token": access, "refresh_token": refresh}


def _invalid() -> ApiError:
    message = "The refresh token is invalid or expired."
    return ApiError(400, Code.INVALID, message, param="refresh_token")


def _session_alive(row: RefreshToken) -> bool:
    return UserSession.objects.filter(
        user_id=row.user_id,
        user__is_active=True,  # a deactivated user gets no new access token
        public_id=row.session_public_id,
        expire_date__gt=timezone.now(),
    ).exists()


def token_refresh(*, refresh_token: str) -> dict:
    """Rotate: the presented token is spent, a new one of its family is issued.

    The row lock makes concurrent uses of one token queue: the first rotates,
    every later one finds it spent, and is a reuse.
    """
    if len(refresh_token) > _REFRESH_MAX:
        raise _invalid()
    now = timezone.now()
    with transaction.atomic():
        row = (
            RefreshToken.objects.select_for_update().filter(token_hash=_hash(refresh_token)).first()
        )
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise _invalid()
        # A spent token is a reuse; a token whose session ended is dead. Either
        # way the family goes, after this block (an exception would roll it back).
        if row.used_at is None and _session_alive(row):
            row.used_at = now
            row.save(update_fields=["used_at"])
            kwargs = {
                "user_id": row.user_id,
                "sid": row.session_public_id,
                "amr": row.amr,
                "chain": row.chain,
            }
            refresh = _refresh_token_create(family=row.family, **kwargs)
            return {"access_token": access_token_encode(**kwargs), "refresh_token": refresh}
    RefreshToken.objects.filter(family=row.family, revoked_at__isnull=True).update(revoked_at=now)
    raise _invalid()


def tokens_revoke_session(*, user_id: int, sid: int | None) -> int:
    """Revoke the refresh tokens of one session (logout, session ended)."""
    if sid is None:
        return 0
    return RefreshToken.objects.filter(
        user_id=user_id, session_public_id=sid, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def session_end(*, user_id: int, sid: int) -> None:
    """End the session `sid` names (a logout by access token), and its tokens."""
    from accounts.flows.signin import end_sessions

    sessions = UserSession.objects.filter(user_id=user_id, public_id=sid)
    end_sessions(list(sessions.values_list("session_key", flat=True)))
    tokens_revoke_session(user_id=user_id, sid=sid)
