"""The challenge store: single-use sign-in challenges in Redis.

A challenge lives under its nonce (never under the address, so nobody can
overwrite another client's pending challenge) as the JSON of what was issued,
with the challenge's lifetime as the key's TTL:

    SET <prefix>:wallet:challenge:<nonce> <json> NX EX <ttl>    issue
    GETDEL <prefix>:wallet:challenge:<nonce>                    consume

GETDEL is atomic, so among any number of concurrent verifies of one nonce
exactly one gets the challenge back; it is gone whatever happens next.
Redis errors propagate: the API answers them with 503 `service_unavailable`.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum

from accounts import redis as signet_redis
from config.patterns import request_pattern

KEY_PARTS = ("wallet", "challenge")
NONCE_ALPHABET = string.digits + string.ascii_letters
# 128 bits from `secrets`, written as 22 base62 characters (62**22 > 2**128).
NONCE_BYTES = 16
NONCE_LENGTH = 22
_NONCE = request_pattern("wallet.nonce", rf"[A-Za-z0-9]{{{NONCE_LENGTH}}}", attacks=("a",))


class Process(StrEnum):
    LOGIN = "login"
    CONNECT = "connect"
    # Step-up for a signed-in user with a wallet (accounts.flows.reauthentication).
    REAUTHENTICATE = "reauthenticate"


# Processes whose challenge is bound to the signed-in user it was issued to.
BOUND_TO_USER = frozenset({Process.CONNECT, Process.REAUTHENTICATE})


@dataclass(frozen=True)
class IssuedChallenge:
    """Exactly what was issued; `user_id` is set for `connect` and `reauthenticate`."""

    nonce: str
    process: str
    chain: str
    address: str
    domain: str
    uri: str
    statement: str | None
    issued_at: datetime
    expires_at: datetime
    user_id: int | None = None

    def to_json(self) -> str:
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        data["issued_at"] = self.issued_at.isoformat()
        data["expires_at"] = self.expires_at.isoformat()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> IssuedChallenge:
        data = json.loads(text)
        data["issued_at"] = datetime.fromisoformat(data["issued_at"])
        data["expires_at"] = datetime.fromisoformat(data["expires_at"])
        return cls(**data)


def new_nonce() -> str:
    # One read of the OS's randomness, not one per character (secrets.choice).
    value = int.from_bytes(secrets.token_bytes(NONCE_BYTES), "big")
    digits = []
    for _ in range(NONCE_LENGTH):
        value, digit = divmod(value, len(NONCE_ALPHABET))
        digits.append(NONCE_ALPHABET[digit])
    return "".join(digits)


def challenge_key(nonce: str) -> str:
    return signet_redis.redis_key(*KEY_PARTS, nonce)


def challenge_store(challenge: IssuedChallenge, *, ttl: int) -> bool:
    """Store `challenge` for `ttl` seconds; False if its nonce is already taken."""
    stored = signet_redis.redis_client().set(
        challenge_key(challenge.nonce), challenge.to_json(), nx=True, ex=ttl
    )
    return bool(stored)


def challenge_consume(nonce: str) -> IssuedChallenge | None:
    """Take the challenge out of the store: the first caller gets it, later ones None."""
    if not _NONCE.fullmatch(nonce):
        return None  # not one of ours: no need to ask Redis
    raw = signet_redis.redis_client().getdel(challenge_key(nonce))
    return IssuedChallenge.from_json(raw) if raw is not None else None
