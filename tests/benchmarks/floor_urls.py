"""What-if endpoints for bench_floor.py: the least each measured endpoint could
cost on this stack (Django's middleware, gunicorn, PostgreSQL, Redis).

Each view does only the work its endpoint cannot skip, as cheaply as it can
be written, behind the same middleware as `/health/live`: no DRF, no input
validation, no ORM, every database write of a sign-in in one hand-written
statement. They are not an implementation (they check nothing and trust the
body); they bound from below what any implementation of the contract can
reach, so a target under that bound is out of reach of code changes alone.

    POST /floor/challenge  {chain, address}      one SET NX EX, the message back
    POST /floor/verify     {message, signature}  SIWE parse, GETDEL, EIP-191
                                                 recovery, the sign-in writes
    POST /floor/login      {email, password}     one SELECT, argon2, the writes
    GET  /floor/session    X-Session-Token       one GET of the cached session
    POST /floor/mfa/totp   {code}, X-Session-Token     GETDEL of the pending
                                                 sign-in, Fernet + HMAC, the writes
    POST /floor/mfa/webauthn {credential}, X-Session-Token  GETDEL of the pending
                                                 sign-in and its challenge, the
                                                 assertion's checks, the writes

The sign-in writes are those the real flows make, in one statement: the
session row, `last_login`, the audit row (and for a wallet `last_used_at`;
after a second factor the authenticator's step or signature counter, moved
forward only, which is what refuses a replayed code or a cloned key), then
the session's copy in Redis.

    GET  /floor/token      Authorization: Bearer   the access token's signature
                                                 and claims (Signet's own decode),
                                                 the user's id from `sub`: no read

`POST /floor/mfa/begin {email}` is no floor but the MFA floors' set-up, run
before the timing: the pending sign-in a password login would leave, holding
what completing it needs (the encrypted TOTP secret; the WebAuthn credential
and the challenge's state, whose options it answers), so that completing
costs one Redis round trip.
"""

from __future__ import annotations

import json
import pickle
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from django.contrib.auth.hashers import check_password
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from fido2.utils import websafe_decode
from fido2.webauthn import (
    AttestedCredentialData,
    AuthenticationResponse,
    UserVerificationRequirement,
)

from accounts.mfa import crypto, totp, webauthn
from accounts.redis import redis_client, redis_key
from accounts.tokens.flows import access_token_decode
from config.urls import urlpatterns as signet_urlpatterns
from wallets.chains.evm import EvmFamily, recover_address

_EVM = EvmFamily()
_TTL = 300
_SIGN_IN = """
    WITH GUARD u AS (
        UPDATE accounts_user SET last_login = now() WHERE id = USER RETURNING id, email
    ), s AS (
        INSERT INTO accounts_usersession (session_key, session_data, expire_date, public_id,
            ip, user_agent, created_at, last_seen_at, user_id, origin)
        SELECT %(key)s, %(data)s, now() + interval '14 days', %(public)s, %(ip)s, %(ua)s,
            now(), now(), id, COALESCE(%(origin)s, 'email:' || email) FROM u
    ), e AS (
        INSERT INTO accounts_authevent (user_id, kind, outcome, method, chain, ip,
            user_agent, created_at, detail)
        SELECT id, 'login', 'success', %(method)s, %(chain)s, %(ip)s, %(ua)s, now(), '{}'
        FROM u
    )
    SELECT id, email FROM u
"""
_SESSION_WRITES = _SIGN_IN.replace("GUARD", "").replace("USER", "%(user)s")
# After a second factor: the step (TOTP) or signature counter (WebAuthn) moves
# forward or nothing is written (a replay, a cloned key: no row, a 400).
_MFA_WRITES = _SIGN_IN.replace(
    "GUARD",
    """a AS (
        UPDATE mfa_authenticator SET counter = %(counter)s, last_used_at = now()
        WHERE id = %(authenticator)s AND (counter IS NULL OR counter < %(counter)s)
        RETURNING user_id
    ),""",
).replace("USER", "(SELECT user_id FROM a)")
_WALLET_TOUCH = """
    WITH w AS (
        UPDATE wallets_wallet SET last_used_at = now()
        WHERE namespace = 'eip155' AND address = %(address)s AND bound_chain = ''
        RETURNING user_id
    ) SELECT user_id FROM w
"""


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), content_type="application/json", status=status)


def _sign_in(
    request,
    user_id: int,
    method: str,
    chain: str = "",
    guard: tuple[int, int] | None = None,
    origin: str | None = None,
) -> HttpResponse:
    """`guard`: (authenticator id, step or counter) of the second factor;
    `origin`: what the session was signed in with (default: the email)."""
    key = secrets.token_hex(16)
    session = {"_auth_user_id": str(user_id), "method": method, "chain": chain}
    with connection.cursor() as cursor:
        cursor.execute(
            _SESSION_WRITES if guard is None else _MFA_WRITES,
            {"user": user_id, "key": key, "data": json.dumps(session), "ip": "127.0.0.1",
             "public": secrets.randbelow(2**52) + 1, "ua": request.META.get("HTTP_USER_AGENT", ""),
             "method": method, "chain": chain, "origin": origin,
             **({} if guard is None else {"authenticator": guard[0], "counter": guard[1]})},
        )  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        return _json({"status": 400}, status=400)
    user_id, email = row
    redis_client().set(redis_key("floor", "session", key), pickle.dumps(session), ex=_TTL)
    user = {"id": user_id, "email": email}
    return _json({"status": 200, "data": {"user": user}, "meta": {"session_token": key}})


@csrf_exempt
def challenge(request):
    body = json.loads(request.body)
    nonce = secrets.token_hex(11)
    issued = datetime.now(UTC).replace(microsecond=0)
    fields = {**body, "nonce": nonce, "issued_at": issued.isoformat()}
    redis_client().set(redis_key("floor", "challenge", nonce), json.dumps(fields), nx=True, ex=_TTL)
    message = (
        f"example.org wants you to sign in with your Ethereum account:\n{body['address']}\n\n"
        f"Sign in to Signet.\n\nURI: https://example.org\nVersion: 1\nChain ID: 1\n"
        f"Nonce: {nonce}\nIssued At: {issued.isoformat()}\n"
        f"Expiration Time: {(issued + timedelta(seconds=_TTL)).isoformat()}"
    )
    return _json({"status": 200, "data": {"nonce": nonce, "message": message}})


@csrf_exempt
def verify(request):
    body = json.loads(request.body)
    fields = _EVM.parse_message(body["message"])
    redis_client().getdel(redis_key("floor", "challenge", fields.nonce))
    address = recover_address(body["message"], bytes.fromhex(body["signature"][2:]))
    with connection.cursor() as cursor:
        cursor.execute(_WALLET_TOUCH, {"address": address})
        row = cursor.fetchone()
    if row is None:
        return _json({"status": 400}, status=400)
    return _sign_in(request, row[0], "wallet", fields.chain, origin=f"wallet:eip155:{address}")


@csrf_exempt
def login(request):
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, password FROM accounts_user WHERE lower(email) = lower(%s)",
            [body["email"]],
        )
        row = cursor.fetchone()
    if row is None or not check_password(body["password"], row[1]):
        return _json({"status": 400}, status=400)
    return _sign_in(request, row[0], "password")


def session(request):
    raw = redis_client().get(
        redis_key("floor", "session", request.META.get("HTTP_X_SESSION_TOKEN", ""))
    )
    if raw is None:
        return _json({"status": 410}, status=410)
    data = pickle.loads(raw)  # noqa: S301 (written by _sign_in above)
    user = {"id": int(data["_auth_user_id"])}
    return _json({"status": 200, "data": {"user": user}, "meta": {"is_authenticated": True}})


def _pending_key(request) -> str:
    return redis_key("floor", "pending", request.META.get("HTTP_X_SESSION_TOKEN", ""))


@cache
def _fido2():
    return webauthn.server()  # Signet's RP and origins, built once


@csrf_exempt
def mfa_begin(request):
    """The MFA floors' set-up (untimed), see the module's docstring."""
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.user_id, a.type, a.data FROM mfa_authenticator a"
            " JOIN accounts_user u ON u.id = a.user_id"
            " WHERE lower(u.email) = lower(%s) AND a.type IN ('totp', 'webauthn')",
            [body["email"]],
        )
        authenticator, user_id, kind, data = cursor.fetchone()
    data = json.loads(data) if isinstance(data, str) else data
    pending = {"user": user_id, "authenticator": authenticator}
    answer = {}
    if kind == "totp":
        pending["secret"] = data["secret"]  # encrypted, as at rest
    else:
        options, state = _fido2().authenticate_begin(
            credentials=[AttestedCredentialData(websafe_decode(data["credential"]))],
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        pending |= {"state": dict(state), "credential": data["credential"]}
        answer["request_options"] = dict(options)
    token = secrets.token_hex(16)
    redis_client().set(redis_key("floor", "pending", token), json.dumps(pending), ex=_TTL)
    return _json({"status": 200, "data": answer, "meta": {"session_token": token}})


@csrf_exempt
def mfa_totp(request):
    raw = redis_client().getdel(_pending_key(request))
    if raw is None:
        return _json({"status": 410}, status=410)
    pending = json.loads(raw)
    step = totp.matching_step(crypto.decrypt(pending["secret"]), json.loads(request.body)["code"])
    if step is None:
        return _json({"status": 400}, status=400)
    return _sign_in(request, pending["user"], "mfa", guard=(pending["authenticator"], step))


@csrf_exempt
def mfa_webauthn(request):
    raw = redis_client().getdel(_pending_key(request))
    if raw is None:
        return _json({"status": 410}, status=410)
    pending = json.loads(raw)
    response = AuthenticationResponse.from_dict(json.loads(request.body)["credential"])
    credential = AttestedCredentialData(websafe_decode(pending["credential"]))
    try:  # client data, origin, RP id hash, flags, then the signature
        _fido2().authenticate_complete(pending["state"], [credential], response)
    except ValueError:
        return _json({"status": 400}, status=400)
    counter = response.response.authenticator_data.counter
    return _sign_in(request, pending["user"], "mfa", guard=(pending["authenticator"], counter))


def token(request):
    _, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    claims = access_token_decode(value)
    if claims is None:
        return _json({"status": 401}, status=401)
    user = {"id": int(claims["sub"])}
    return _json({"status": 200, "data": {"user": user}, "meta": {"is_authenticated": True}})


urlpatterns = [
    path("floor/token", token),
    path("floor/mfa/begin", mfa_begin),
    path("floor/mfa/totp", mfa_totp),
    path("floor/mfa/webauthn", mfa_webauthn),
    path("floor/challenge", challenge),
    path("floor/verify", verify),
    path("floor/login", login),
    path("floor/session", session),
    *signet_urlpatterns,
]
