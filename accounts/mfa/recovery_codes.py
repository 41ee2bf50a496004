"""Recovery codes: single-use 8-digit codes (allauth's format), stored as
keyed hashes.

Why HMAC-SHA256 and not a password hash: the codes are drawn at random from
10^8 values, not chosen by people, so there is no dictionary to slow down;
what protects them in a database dump is the key. Each set has its own
random 256-bit HMAC key, kept encrypted with MFA_ENCRYPTION_KEY (so a key
rotation re-keys nothing), and a dump without that key reveals no code.
Online guessing is what the rate limit (`mfa_authenticate`) bounds.

Codes can be shown only while they are fresh: the plain codes are kept,
encrypted, as `pending` until the first GET of the recovery-codes endpoint
shows them (allauth's SPA reads them there right after generating) or until
VIEW_WINDOW passes; then only their hashes remain.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from accounts.mfa import crypto

DIGITS = 8
VIEW_WINDOW = 15 * 60  # seconds the fresh codes may still be shown


def codes_generate(count: int) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        if code not in codes:
            codes.append(code)
    return codes


def normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def _digest(key: bytes, code: str) -> str:
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _key(data: dict) -> bytes:
    return base64.b64decode(crypto.decrypt(data["key"]))


def recovery_data(codes: list[str]) -> dict:
    key = secrets.token_bytes(32)
    return {
        "key": crypto.encrypt(base64.b64encode(key).decode()),
        "hashes": [_digest(key, code) for code in codes],
        "used": [],
        "pending": crypto.encrypt(json.dumps(codes)),
        "pending_until": time.time() + VIEW_WINDOW,
    }


def matching_index(data: dict, code: str) -> int | None:
    """The index of the unused code `code` is, or None."""
    code = normalize(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    digest = _digest(_key(data), code)
    used = set(data.get("used", []))
    found = None
    for index, stored in enumerate(data["hashes"]):
        if hmac.compare_digest(stored, digest) and index not in used:
            found = index
    return found


def total_count(data: dict) -> int:
    return len(data["hashes"])


def unused_count(data: dict) -> int:
    return len(data["hashes"]) - len(set(data.get("used", [])))


def pending_codes(data: dict) -> list[str] | None:
    """The unused codes while they may still be shown; None once they are gone."""
    token = data.get("pending")
    if not token or time.time() > data.get("pending_until", 0):
        return None
    used = set(data.get("used", []))
    return [code for i, code in enumerate(json.loads(crypto.decrypt(token))) if i not in used]
