"""Session engine: the database is the truth, Redis serves reads.

Like Django's cached_db engine it writes through to both and reads the cache
first; this one stores sessions in `UserSession`, whose list columns (user,
ip, user agent, created, last seen) are derived from the session data on each
save. The session key doubles as the app client's session token (as in
allauth), so `cycle_key()` is token rotation.

Fewer round trips than cached_db, for the two hot paths:

- Sign-in writes the session row once. Django's `cycle_key()` INSERTs a row
  under the new key at once, and the request then UPDATEs it with the
  signed-in data; here `cycle_key()` only draws the key, and the next save
  INSERTs the complete row (drawing again should the key exist, as
  `create()` does). A single statement runs without BEGIN/COMMIT unless the
  caller holds a transaction (then inside a savepoint, as Django does).
- An authenticated read is one Redis call. The cached copy is
  `b"<user id>:" + pickle` (`b":" + pickle` when nobody is signed in), and a
  Lua script returns it together with that user's version and entry from the
  user cache (accounts.usercache), which `accounts.backends.get_user` hands
  on instead of asking Redis again.

Ending a signed-in session must not leave its copy in Redis: a cache that
missed the delete (Redis partitioned or frozen) would sign the token in again
once it answers. So such a delete removes the cached copy first and fails
(RedisError, 503 to the client, nothing changed) when it cannot; after the
database row is gone it removes the copy once more, in case a concurrent read
put it back. Sign-in and session reads keep working without Redis: deleting
an anonymous session's copy may fail harmlessly, and a copy left behind by a
password change carries the old password's hash, which Django refuses.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import secrets
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import caches
from django.db import DatabaseError, IntegrityError, router, transaction
from redis.commands.core import Script
from redis.exceptions import RedisError

from accounts import userversions
from accounts.transactions import savepoint_if_nested

logger = logging.getLogger(__name__)

# Session data keys: one home each.
PUBLIC_ID = "signet.sid"
IP = "signet.ip"
USER_AGENT = "signet.ua"
CREATED_AT = "signet.created"
LAST_SEEN_AT = "signet.seen"
METHODS = "signet.methods"
PENDING = "signet.pending"
ORIGIN = "signet.origin"  # what signed the session in (UserSession.origin)
# Code flows beside the sign-in's PENDING stage (accounts.flows.login_by_code,
# password_reset_by_code): a signed-in user's step-up, anyone's password reset.
REAUTHENTICATION_CODE = "signet.reauth_code"
PASSWORD_RESET_CODE = "signet.reset_code"

# How stale `last_seen_at` may get before a request refreshes it.
LAST_SEEN_RESOLUTION = 5 * 60

# Public session ids are integers (allauth's spec), drawn below 2**52 + 1 so
# JavaScript reads them exactly. Unique per user in practice (52 random bits).
PUBLIC_ID_SPACE = 2**52

# KEYS[1]: a session's cached copy; ARGV: the user cache's version and entry
# key prefixes. The user keys are found from the copy, so they cannot be
# declared in KEYS: fine on one Redis (Signet does not run on Redis Cluster).
_READ_SCRIPT = """
local copy = redis.call('GET', KEYS[1])
if not copy then return false end
local uid = string.match(copy, '^(%d+):')
if not uid then return {copy} end
return {copy, redis.call('GET', ARGV[1] .. uid), redis.call('GET', ARGV[2] .. uid)}
"""
_READ = Script(None, _READ_SCRIPT.encode())  # bytes: no client needed to hash it
_KEY_LENGTH = 32
_KEY_SPACE = len(VALID_KEY_CHARS) ** _KEY_LENGTH
# A fresh key is 165 random bits: a clash is a foreign-key failure in disguise.
_INSERT_ATTEMPTS = 3


def _dt(ts: Any) -> datetime | None:
    return datetime.fromtimestamp(ts, tz=UTC) if isinstance(ts, int | float) else None


def new_public_id() -> int:
    return secrets.randbelow(PUBLIC_ID_SPACE) + 1


def _derived_public_id(text: str) -> int:
    # Migration 0003 computes the same in SQL for the rows it converts.
    digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
    return int(digest[:13], 16) + 1


def public_id(session: Any, session_key: str | None) -> int | None:
    """The public id of a signed-in session (None for nobody's session).

    Sign-ins draw one (accounts.flows.signin.record_session). A
    signed-in session without one, or with a v1 string id, gets a stable one
    derived from that string or from its key, stored in the data so that it
    survives the key's rotation: the listing never shows a session that cannot
    be ended. `session` is the data dict or a session store.
    """
    value = session.get(PUBLIC_ID)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if SESSION_KEY not in session:
        return None
    value = _derived_public_id(value if isinstance(value, str) and value else session_key or "")
    session[PUBLIC_ID] = value
    return value


class SessionStore(CachedDBStore):
    cache_key_prefix = "signet.session."

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        # A key drawn by cycle_key() whose row the next save must INSERT.
        self._unsaved_key = False
        # (user id, version, entry) read along with the cached copy.
        self.user_prefetch: tuple[str, bytes | None, bytes | None] | None = None

    @classmethod
    def get_model_class(cls):
        from accounts.models import UserSession

        return UserSession

    def create_model_instance(self, data: dict[str, Any]):
        obj = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        obj.user_id = int(user_id) if user_id is not None else None
        obj.public_id = public_id(data, self.session_key)
        obj.ip = data.get(IP)
        obj.user_agent = (data.get(USER_AGENT) or "")[:512]
        obj.created_at = _dt(data.get(CREATED_AT))
        obj.last_seen_at = _dt(data.get(LAST_SEEN_AT))
        obj.origin = (data.get(ORIGIN) or "")[:320]
        return obj

    def _get_new_session_key(self) -> str:
        # Django first asks the cache and the database whether a fresh random
        # key exists; at 165 bits it never does, and should it, the INSERT
        # fails and the save draws again. Two round trips saved per sign-in.
        # Django's 32 characters of [0-9a-z], drawn as one number below 36**32
        # rather than one secrets.choice() per character (a tenth of the cost).
        value = secrets.randbelow(_KEY_SPACE)
        digits = []
        for _ in range(_KEY_LENGTH):
            value, digit = divmod(value, len(VALID_KEY_CHARS))
            digits.append(VALID_KEY_CHARS[digit])
        return "".join(digits)

    # --- Reads ---------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        data = self._cached_copy()
        if data is None:
            row = self._get_session_from_db()
            if not row:
                return {}
            data = self.decode(row.session_data)
            self._cache_store(data, self.get_expiry_age(expiry=row.expire_date))
        return data

    def _cached_copy(self) -> dict[str, Any] | None:
        try:
            client = _raw_cache_client()
            reply = _READ(
                keys=[_cache_key(self.cache_key_prefix + self.session_key)],
                args=userversions.key_prefixes(),
                client=client,
            )
        except RedisError:
            return None  # the database answers
        if not reply:
            return None
        head, _, body = reply[0].partition(b":")
        try:
            data = pickle.loads(body)  # noqa: S301 (written by save(); as trusted as Django's cache)
        except Exception:  # an unreadable copy (another format) is a miss
            return None
        if not isinstance(data, dict) or head.decode() != str(data.get(SESSION_KEY, "")):
            return None
        if len(reply) == 3:
            self.user_prefetch = (head.decode(), reply[1], reply[2])
        return data

    # --- Writes --------------------------------------------------------------

    def cycle_key(self) -> None:
        """A new key (token) for the same data, written by the next save."""
        data = self._session
        old_key = self.session_key
        self._session_key = self._get_new_session_key()
        self._unsaved_key = True
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
            return
        if must_create or self._unsaved_key:
            self._insert()
        else:
            self._write_row(must_create=False)
        self._cache_store(self._session, self.get_expiry_age())

    def create(self) -> None:
        self._session_key = self._get_new_session_key()
        self.save(must_create=True)
        self.modified = True

    def _insert(self) -> None:
        for attempt in range(_INSERT_ATTEMPTS):
            try:
                self._write_row(must_create=True)
            except IntegrityError:
                if attempt == _INSERT_ATTEMPTS - 1:
                    raise  # not a clash: e.g. the user was deleted meanwhile (409)
                self._session_key = self._get_new_session_key()
                continue
            self._unsaved_key = False
            return

    def _write_row(self, *, must_create: bool) -> None:
        """DBStore.save(), minus the transaction around a lone statement."""
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        try:
            with savepoint_if_nested(using):
                if must_create:
                    obj.save(force_insert=True, using=using)
                else:
                    self._update_row(obj, using)
        except IntegrityError:
            raise  # a DatabaseError too, but not a vanished row: _insert() handles it
        except DatabaseError:
            if not must_create:
                raise UpdateError from None  # ended meanwhile: SessionMiddleware says so
            raise

    def _update_row(self, obj, using: str) -> None:
        # By key, not by primary key: the key is not the row's identity (see
        # UserSession). One UPDATE, as Model.save(force_update=True) would run.
        fields = [
            f for f in obj._meta.concrete_fields if not f.primary_key and f.name != "session_key"
        ]
        rows = self.model._default_manager.using(using).filter(session_key=obj.session_key)
        if not rows.update(**{f.attname: getattr(obj, f.attname) for f in fields}):
            raise DatabaseError("Forced update did not affect any rows.")

    def _cache_store(self, data: dict[str, Any], timeout: int) -> None:
        user_id = str(data.get(SESSION_KEY, ""))
        head = user_id if user_id.isdigit() else ""
        try:
            _raw_cache_client().set(
                _cache_key(self.cache_key_prefix + self.session_key),
                head.encode() + b":" + pickle.dumps(data, pickle.HIGHEST_PROTOCOL),
                ex=max(timeout, 1),
            )
        except RedisError:
            logger.warning("session not cached: redis unavailable")

    # --- Ending --------------------------------------------------------------

    def flush(self) -> None:
        # flush() empties the data before deleting: remember whose it was.
        self._ending_user = SESSION_KEY in self._session
        try:
            super().flush()
        finally:
            self._ending_user = False
            self._unsaved_key = False

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        data = getattr(self, "_session_cache", None)
        if data is None:
            data = self.load()
        strict = getattr(self, "_ending_user", False) or SESSION_KEY in data
        cache_key = self.cache_key_prefix + session_key
        _cache_delete(cache_key, strict=strict)
        DBStore.delete(self, session_key)
        transaction.on_commit(lambda: _cache_delete(cache_key, strict=False))


def _raw_cache_client():
    from django_redis import get_redis_connection

    return get_redis_connection(settings.SESSION_CACHE_ALIAS)


def _cache_key(key: str) -> str:
    return caches[settings.SESSION_CACHE_ALIAS].make_key(key)


def _cache_delete(cache_key: str, *, strict: bool) -> None:
    try:
        _raw_cache_client().delete(_cache_key(cache_key))
    except RedisError:
        if strict:
            raise


def cached_copy(session_key: str) -> dict[str, Any] | None:
    """The data Redis holds for a session, if any (for tests and debugging)."""
    raw = _raw_cache_client().get(_cache_key(SessionStore.cache_key_prefix + session_key))
    if raw is None:
        return None
    return pickle.loads(raw.partition(b":")[2])  # noqa: S301 (see SessionStore._cached_copy)


def session_lookup(key: str) -> SessionStore | None:
    """The live session for `key`, or None (unknown, expired or ended).

    One read: the load clears the key when nothing is found.
    """
    if not key or len(key) > 64:
        return None
    store = SessionStore(session_key=key)
    store.get(SESSION_KEY)
    return store if store.session_key else None
