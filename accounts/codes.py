"""Short codes mailed to an address: login by code, email verification by
code, password reset by code, reauthentication by code.

A code is allauth's user code: 8 consonants (RFC 8628's alphabet: no
vowels, so no words, no look-alike digits), shown as "BCDF-GHJK"; typed in
lower case, with spaces or without the dash it is the same code
(`normalize`). 20^8 is about 2.6e10: with a few attempts per code and the
issuers' rate limits, guessing is hopeless.

Only a keyed digest of a code is kept, in Redis, under a random id (`issue`
returns both; the flow keeps the id in the session's pending record and
mails the code). The code itself is never stored or logged.

`check` counts the attempt and reads the digest in one Lua script, so
concurrent guesses cannot exceed `max_attempts`: the n-th attempt is refused
unread whatever the others do. The digests are compared in constant time;
the right code is then taken by a second script that deletes the entry only
if it still holds that digest, so two racing right answers succeed once.
The wrong attempt that spends the last try ends the code (WRONG_LAST), as
any after it would.
The entry expires with the flow's timeout (its TTL), so an expired code and
an unknown id are the same answer: GONE.

A Redis error propagates (RedisError: 503 to the client, nothing changed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from enum import Enum, StrEnum

from django.conf import settings
from django.utils.crypto import get_random_string
from redis.commands.core import Script

from accounts.redis import redis_client, redis_key

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # allauth's user-code alphabet (RFC 8628)
LENGTH = 8
_ID_BYTES = 16
_IGNORED = str.maketrans("", "", string.punctuation + string.whitespace)

# KEYS[1]: the entry; ARGV[1]: max attempts. Counts the attempt; returns the
# digest while attempts remain, else deletes the entry; nil when none.
_ATTEMPT_SCRIPT = """
local digest = redis.call('HGET', KEYS[1], 'd')
if not digest then return nil end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n > tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return nil
end
return digest
"""
# KEYS[1]: the entry; ARGV[1]: its digest. 1 when this call took it.
_TAKE_SCRIPT = """
if redis.call('HGET', KEYS[1], 'd') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS[1]: the entry; ARGV[1]: max attempts. Ends it once attempts are spent.
_SPENT_SCRIPT = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if n >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""
# KEYS[1]: the entry. Gives back the attempt a right code spent (peek).
_REFUND_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 0
"""
_ATTEMPT = Script(None, _ATTEMPT_SCRIPT.encode())
_TAKE = Script(None, _TAKE_SCRIPT.encode())
_SPENT = Script(None, _SPENT_SCRIPT.encode())
_REFUND = Script(None, _REFUND_SCRIPT.encode())


class Purpose(StrEnum):
    """What a code is for: part of its digest and key, so a code of one
    purpose is never valid for another."""

    LOGIN = "login"
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"
    REAUTHENTICATE = "reauthenticate"


class Result(Enum):
    OK = "ok"  # the right code: the entry is spent
    WRONG = "wrong"  # a wrong code; attempts remain
    WRONG_LAST = "wrong_last"  # a wrong code that used the last attempt: the code is gone
    GONE = "gone"  # no such code any more: expired, spent, attempts used up, never issued

    @property
    def wrong(self) -> bool:
        return self in (Result.WRONG, Result.WRONG_LAST)


def generate() -> str:
    code = get_random_string(LENGTH, ALPHABET)
    return f"{code[:4]}-{code[4:]}"


def normalize(code: str) -> str:
    """The code as issued, from what a user typed: case, spaces and dashes
    do not matter (allauth's normalize_user_code)."""
    raw = code.translate(_IGNORED).upper()
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == LENGTH else raw


def _key(purpose: Purpose, code_id: str) -> str:
    return redis_key("code", purpose.value, code_id)


def _digest(purpose: Purpose, code_id: str, code: str) -> str:
    message = f"{purpose.value}:{code_id}:{normalize(code)}".encode()
    key = hashlib.sha256(b"signet.codes:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue(purpose: Purpose, *, timeout: int) -> tuple[str, str]:
    """A new code valid for `timeout` seconds: (id to keep, code to mail)."""
    code_id = secrets.token_urlsafe(_ID_BYTES)
    code = generate()
    key = _key(purpose, code_id)
    pipe = redis_client().pipeline(transaction=True)
    pipe.hset(key, mapping={"d": _digest(purpose, code_id, code), "n": 0})
    pipe.expire(key, timeout)
    pipe.execute()
    return code_id, code


def _attempt(
    purpose: Purpose, code_id: str, code: str, max_attempts: int
) -> tuple[Result, str, str]:
    """Count one attempt and compare: (OK, the entry's key, its digest) for
    the right code, still stored; WRONG, WRONG_LAST (the entry ended) or GONE."""
    if not isinstance(code_id, str) or not code_id:
        return Result.GONE, "", ""
    key = _key(purpose, code_id)
    client = redis_client()
    stored = _ATTEMPT(keys=[key], args=[max_attempts], client=client)
    if stored is None:
        return Result.GONE, key, ""
    expected = stored.decode() if isinstance(stored, bytes) else str(stored)
    if hmac.compare_digest(expected, _digest(purpose, code_id, code)):
        return Result.OK, key, expected
    ended = _SPENT(keys=[key], args=[max_attempts], client=client)
    return (Result.WRONG_LAST if ended else Result.WRONG), key, ""


def check(purpose: Purpose, code_id: str, code: str, *, max_attempts: int) -> Result:
    """Spend one attempt at the code `code_id` names (see the module doc)."""
    result, key, digest = _attempt(purpose, code_id, code, max_attempts)
    if result is Result.OK:
        if not _TAKE(keys=[key], args=[digest], client=redis_client()):
            return Result.GONE  # a racing right answer took it first
    return result


def exists(purpose: Purpose, code_id: str) -> bool:
    """Whether the code is still there to be tried (not expired, not spent)."""
    return bool(code_id) and bool(redis_client().exists(_key(purpose, code_id)))


def discard(purpose: Purpose, code_id: str) -> None:
    """End a code (its flow was abandoned or replaced)."""
    if code_id:
        redis_client().delete(_key(purpose, code_id))


def peek(purpose: Purpose, code_id: str, code: str, *, max_attempts: int) -> Result:
    """`check` without taking a right code (allauth's GET of a code's
    information): a wrong code spends an attempt as in `check`; a right one
    leaves the entry in place and gives its attempt back, since allauth
    counts only wrong attempts."""
    result, key, _ = _attempt(purpose, code_id, code, max_attempts)
    if result is Result.OK:
        _REFUND(keys=[key], client=redis_client())
    return result
