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

The sign-in writes are those the real flows make, in one statement: the
session row, `last_login`, the audit row (and for a wallet `last_used_at`),
then the session's copy in Redis.
"""

from __future__ import annotations

import json
import pickle
import secrets
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import check_password
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from accounts.redis import redis_client, redis_key
from config.urls import urlpatterns as signet_urlpatterns
from wallets.chains.evm import EvmFamily, recover_address

_EVM = EvmFamily()
_TTL = 300
_SESSION_WRITES = """
    WITH u AS (
        UPDATE accounts_user SET last_login = now() WHERE id = %(user)s RETURNING id, email
    ), s AS (
        INSERT INTO accounts_usersession (session_key, session_data, expire_date, public_id,
            ip, user_agent, created_at, last_seen_at, user_id)
        SELECT %(key)s, %(data)s, now() + interval '14 days', %(public)s, %(ip)s, %(ua)s,
            now(), now(), id FROM u
    ), e AS (
        INSERT INTO accounts_authevent (user_id, kind, outcome, method, chain, ip,
            user_agent, created_at, detail)
        SELECT id, 'login', 'success', %(method)s, %(chain)s, %(ip)s, %(ua)s, now(), '{}'
        FROM u
    )
    SELECT id, email FROM u
"""
_WALLET_TOUCH = """
    WITH w AS (
        UPDATE wallets_wallet SET last_used_at = now()
        WHERE namespace = 'eip155' AND address = %(address)s AND bound_chain = ''
        RETURNING user_id
    ) SELECT user_id FROM w
"""


def _json(data: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), content_type="application/json", status=status)


def _sign_in(request, user_id: int, method: str, chain: str = "") -> HttpResponse:
    key = secrets.token_hex(16)
    session = {"_auth_user_id": str(user_id), "method": method, "chain": chain}
    with connection.cursor() as cursor:
        cursor.execute(
            _SESSION_WRITES,
            {"user": user_id, "key": key, "data": json.dumps(session), "ip": "127.0.0.1",
             "public": secrets.randbelow(2**52) + 1, "ua": request.META.get("HTTP_USER_AGENT", ""),
             "method": method, "chain": chain},
        )  # fmt: skip
        user_id, email = cursor.fetchone()
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
    return _sign_in(request, row[0], "wallet", fields.chain)


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


urlpatterns = [
    path("floor/challenge", challenge),
    path("floor/verify", verify),
    path("floor/login", login),
    path("floor/session", session),
    *signet_urlpatterns,
]
