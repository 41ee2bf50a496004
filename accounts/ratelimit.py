"""Rate limits shared by every worker, counted atomically in Redis.

Rates use allauth's names and notation: `"10/m/ip,5/5m/key"` is ten per
minute per client IP and five per five minutes per key (e.g. the email).
"Per IP" is per IPv4 address, and per /64 for IPv6 (accounts.net).
Each rate is a fixed-window counter: INCR, EXPIRE NX and TTL run in one Lua
script, so concurrent workers never race a read-modify-write (allauth's
cache-based limiter can). The script also skips the actions after a refused
one in the same instant: counted and given back later, a counter could have
expired and restarted in between, and the give-back would have been taken
from the next window (one extra guess per window under load).
Keys hold a hash, never the email.

If Redis is unreachable, limits fail open (logged): password login must keep
working through a cache outage; Redis-backed features report 503 themselves.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from redis.commands.core import Script
from redis.exceptions import RedisError

from accounts.errors import ApiError, Code
from accounts.net import client_ip, rate_limit_network
from accounts.redis import redis_client, redis_key
from accounts.signals import Event, Outcome, emit

logger = logging.getLogger(__name__)


class Action:
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    SIGNUP = "signup"
    RESET_PASSWORD = "reset_password"
    RESET_PASSWORD_FROM_KEY = "reset_password_from_key"
    CONFIRM_EMAIL = "confirm_email"
    CHANGE_PASSWORD = "change_password"
    MANAGE_EMAIL = "manage_email"
    REAUTHENTICATE = "reauthenticate"
    WALLET_CHALLENGE = "wallet_challenge"
    WALLET_VERIFY = "wallet_verify"
    # Mails sent to an address on someone else's request (accounts.flows.email_verification).
    ADDRESS_MAIL = "address_mail"
    MFA_AUTHENTICATE = "mfa_authenticate"
    # A login or reauthentication code mailed (accounts.flows.login_by_code): allauth's name.
    REQUEST_LOGIN_CODE = "request_login_code"


# allauth's defaults (65.x), plus the wallet endpoints.
DEFAULT_RATES = {
    Action.CHANGE_PASSWORD: "5/m/user",
    Action.MANAGE_EMAIL: "10/m/user",
    Action.RESET_PASSWORD: "20/m/ip,5/m/key",
    Action.REAUTHENTICATE: "10/m/user",
    Action.RESET_PASSWORD_FROM_KEY: "20/m/ip",
    Action.SIGNUP: "20/m/ip",
    Action.LOGIN: "30/m/ip",
    Action.LOGIN_FAILED: "10/m/ip,5/5m/key",
    Action.CONFIRM_EMAIL: "1/3m/key",
    Action.WALLET_CHALLENGE: "30/m/ip",
    Action.WALLET_VERIFY: "30/m/ip",
    Action.ADDRESS_MAIL: "5/h/key",
    # Every second-factor code checked (sign-in, reauthentication, TOTP set-up),
    # per user as allauth counts them (its login_failed key per user); a
    # correct code gives its attempt back.
    Action.MFA_AUTHENTICATE: "10/m/ip,5/5m/user",
    Action.REQUEST_LOGIN_CODE: "20/m/ip,3/m/key",
}

# KEYS: counters in action order; ARGV: (window seconds, amount, action index)
# per key. Returns (count, ttl) per key; (0, 0) for a key of an action after
# a refused one, which is not counted at all.
_CONSUME_SCRIPT = """
local out, refused = {}, nil
for i, key in ipairs(KEYS) do
  local seconds, amount, action = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  if refused ~= nil and action > refused then
    out[2*i-1], out[2*i] = 0, 0
  else
    local count = redis.call('INCR', key)
    redis.call('EXPIRE', key, seconds, 'NX')
    out[2*i-1], out[2*i] = count, redis.call('TTL', key)
    if count > amount and refused == nil then refused = action end
  end
end
return out
"""
# A give-back decrements only a live positive counter: one that expired since
# must not come back as -1 without a TTL (a window with an extra attempt).
_REFUND_SCRIPT = """
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key))
  if count ~= nil and count > 0 then redis.call('DECR', key) end
end
return 0
"""
_CONSUME = Script(None, _CONSUME_SCRIPT.encode())  # bytes: no client needed to hash it
_REFUND = Script(None, _REFUND_SCRIPT.encode())

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])/(ip|key|user)$")


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int
    per: str


def parse_rates(text: str) -> tuple[Rate, ...]:
    rates = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _RATE.match(part)
        if not match:
            raise ImproperlyConfigured(
                f"ACCOUNT_RATE_LIMITS: {part!r} is not 'amount/duration/per' (e.g. 10/5m/ip)."
            )
        amount, mult, unit, per = match.groups()
        rates.append(Rate(int(amount), int(mult or 1) * _UNITS[unit], per))
    return tuple(rates)


@cache
def _configured(setting: str) -> dict[str, tuple[Rate, ...]]:
    if setting.strip().lower() == "off":
        return {}
    rates = dict(DEFAULT_RATES)
    for item in filter(None, (i.strip() for i in setting.split(";"))):
        action, sep, value = item.partition("=")
        if not sep:
            raise ImproperlyConfigured(
                f"ACCOUNT_RATE_LIMITS: {item!r} should read action=rates (e.g. login=30/m/ip)."
            )
        rates[action.strip()] = value.strip()
    return {action: parse_rates(text) for action, text in rates.items() if text}


def rates_for(action: str) -> tuple[Rate, ...]:
    return _configured(settings.ACCOUNT_RATE_LIMITS).get(action, ())


def _subject(request: HttpRequest, rate: Rate, key: str | None, user) -> str | None:
    if rate.per == "ip":
        value = rate_limit_network(client_ip(request))  # an IPv6 client counts per /64
    elif rate.per == "key":
        value = key
    else:
        value = str(user.pk) if user is not None and user.is_authenticated else None
    if value is None:
        return None
    return hashlib.sha256(value.lower().encode()).hexdigest()[:32]


@dataclass
class Consumption:
    keys: list[str]

    def refund(self) -> None:
        """Give the attempt back (e.g. `login_failed` when the login succeeded)."""
        if not self.keys:
            return
        try:
            _REFUND(keys=self.keys, client=redis_client())
        except RedisError:
            logger.warning("rate limit refund skipped: redis unavailable")


def consume(request: HttpRequest, action: str, *, key: str | None = None, user=None) -> Consumption:
    """Count one attempt against every rate of `action`; 429 when one is spent."""
    return consume_all(request, [(action, key)], user=user)[0]


def consume_all(
    request: HttpRequest, actions: list[tuple[str, str | None]], *, user=None
) -> list[Consumption]:
    """Count one attempt of each (action, key) (distinct actions), all in one
    Redis round trip; 429 for the first action whose rate is spent. As if
    consumed one by one: the actions after a refused one are given back."""
    counted = []  # (action, rate, redis key)
    args: list[int] = []
    for index, (action, key) in enumerate(actions):
        for rate in rates_for(action):
            subject = _subject(request, rate, key, user)
            if subject is not None:
                k = redis_key("rl", action, rate.per, str(rate.seconds), subject)
                counted.append((action, rate, k))
                args += [rate.seconds, rate.amount, index]
    if not counted:
        return [Consumption([]) for _ in actions]
    try:
        results = _CONSUME(keys=[k for *_, k in counted], args=args, client=redis_client())
    except RedisError:
        logger.warning("rate limits not enforced: redis unavailable")
        return [Consumption([]) for _ in actions]
    waits: dict[str, int] = {}
    for i, (action, rate, _k) in enumerate(counted):
        count, ttl = results[2 * i], results[2 * i + 1]
        if count > rate.amount:
            waits[action] = max(waits.get(action, 0), ttl if ttl > 0 else rate.seconds)
    for action, _key in actions:
        if action in waits:  # the first refused action; the script skipped the later ones
            emit(request, Event.RATE_LIMITED, outcome=Outcome.FAILURE, action=action)
            raise ApiError(
                429,
                Code.RATE_LIMITED,
                "Too many attempts; try again later.",
                headers={"Retry-After": str(waits[action])},
            )
    return [Consumption([k for name, _r, k in counted if name == action]) for action, _ in actions]
