"""A Redis read cache of signed-in users, so an authenticated read needs no SQL.

Every authenticated request loads its user (Django's `get_user`) and the
session endpoints serialize it with its wallets: two queries, half the cost of
`GET /auth/session`. One cache entry per user holds both, the User row and the
serialized payload (`accounts.users.build_user_payload`). The session read
brings the entry and the user's version along (accounts.sessions, one Lua
call); otherwise one MGET reads them. A sign-in's response fills the entry
that the client's next session read then finds.

Correctness rests on the version, not on deleting entries:

- every change to a user's row, or to rows a part of the payload reads
  (wallets; email addresses), INCRs the user's version after the write, and
  again once its transaction commits; an entry is served only while it
  carries the current version. accounts.userversions makes that hold for
  every ORM write, `QuerySet.update()` and the bulk writes included;
- a reader takes the version *before* it reads the database, and stores what
  it read under that version. A change that commits after that read bumps the
  version past it, so a stale fill can never be served (deleting the entry
  instead would lose to a reader that read before the commit and writes after
  the delete);
- changes that matter for authentication (password, is_active, staff flags,
  deleting a user or a wallet) also bump *before* they write, and refuse the
  write when Redis does not answer (RedisError: 503, nothing changed), as
  ending a session does (accounts.sessions). Other changes bump best-effort;
- entries live `ENTRY_TTL` seconds: the backstop for writes outside the ORM.

A read inside a transaction that changed the user (its own uncommitted
write) is served but not stored: if the transaction rolled back, no commit
would bump the entry away.

Reads never fail because of the cache: any Redis error reads the database.
Saves that touch only `last_login` bump nothing (every login does one; nothing
reads `last_login` off the signed-in user: password-reset tokens and the admin
read the database).

Within a request, the payload loaded with the user is reused only while this
process has made no change since (`userversions.generation()`): a flow that links a wallet
and answers with the user sees its own write.
"""

from __future__ import annotations

import logging
import pickle
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from redis.exceptions import RedisError

from accounts import userversions
from accounts.models import EmailAddress, User
from accounts.users import build_user_payload

# The writing half, where the callers of this module have always found it.
from accounts.userversions import (  # noqa: F401
    AUTH_FIELDS,
    UNCACHED_FIELDS,
    VERSION_TTL,
    changed,
    changing,
    key_prefixes,
)

logger = logging.getLogger(__name__)

ENTRY_TTL = 60
FIELDS = userversions.user_fields()
_keys = userversions.keys


def _client():
    return userversions._client()


# (user id, version, entry) that the session read brought along (accounts.sessions).
_prefetched: ContextVar[tuple[str, bytes | None, bytes | None] | None] = ContextVar(
    "signet_user_prefetch", default=None
)


@contextmanager
def prefetched(entry: tuple[str, bytes | None, bytes | None] | None) -> Iterator[None]:
    """Let `cached_user` use what the session read fetched, for this block only.
    Only when sessions live on the same Redis as the user cache."""
    caches = settings.CACHES
    if entry is None or (
        caches[settings.SESSION_CACHE_ALIAS]["LOCATION"] != caches["default"]["LOCATION"]
    ):
        yield
        return
    token = _prefetched.set(entry)
    try:
        yield
    finally:
        _prefetched.reset(token)


def _from_database(user_id: Any) -> User | None:
    return User._default_manager.filter(pk=user_id).first()


def _stash(user: User, payload: dict, generation: int) -> User:
    user._signet_payload = (generation, payload)
    return user


def _current_version(client, version_key: str) -> bytes:
    """Start a version for a user the cache has not seen (or has forgotten):
    random, so no entry left from an earlier version can match it."""
    pipe = client.pipeline(transaction=False)
    pipe.set(version_key, secrets.randbelow(2**62), nx=True, ex=VERSION_TTL)
    pipe.get(version_key)
    return pipe.execute()[1]


def _from_entry(entry: tuple | None, version: bytes | None, generation: int) -> User | None:
    if entry is None or version is None or entry[0] != version:
        return None
    _version, values, payload = entry
    return _stash(User.from_db(User.objects.db, FIELDS, values), payload, generation)


def cached_user(user_id: Any) -> User | None:
    """The user with this pk (None if there is none), with its payload attached."""
    generation = userversions.generation()
    prefetch = _prefetched.get()
    if prefetch is not None and prefetch[0] == str(user_id) and prefetch[2] is not None:
        user = _from_entry(_unpickle(prefetch[2]), prefetch[1], generation)
        if user is not None:
            return user
    version_key, entry_key = _keys(user_id)
    try:
        client = _client()
        version, raw = client.mget(version_key, entry_key)
        if version is None:
            version = _current_version(client, version_key)
        elif raw is not None:
            user = _from_entry(_unpickle(raw), version, generation)
            if user is not None:
                return user
    except RedisError:
        # Never fail a read for the cache: the database answers alone.
        return _from_database(user_id)
    user = _from_database(user_id)
    if user is None:
        return None
    payload = build_user_payload(user)
    if _may_fill(user_id):
        values = tuple(getattr(user, name) for name in FIELDS)
        try:
            client.set(entry_key, pickle.dumps((version, values, payload), 5), ex=ENTRY_TTL)
        except RedisError:
            pass  # served from the database this time
    return _stash(user, payload, generation)


def _may_fill(user_id: Any) -> bool:
    """A read that saw this connection's own uncommitted change must not be
    cached: if the transaction rolled back, nothing would bump it away."""
    connection = transaction.get_connection()
    pending = userversions.uncommitted(connection)
    if not connection.in_atomic_block:
        pending.clear()  # any transaction that changed them has ended
        return True
    return int(user_id) not in pending


def _unpickle(raw: bytes) -> tuple | None:
    try:
        entry = pickle.loads(raw)  # noqa: S301 (our own entry; Redis is trusted like the sessions)
    except Exception:  # an entry no longer readable is a miss, whatever broke it
        return None
    return entry if isinstance(entry, tuple) and len(entry) == 3 else None


def cached_payload(user) -> dict | None:
    """The payload loaded with `user`, if nothing changed in this process since."""
    stash = getattr(user, "_signet_payload", None)
    if stash is None or stash[0] != userversions.generation():
        return None
    return stash[1]


# --- Signals ----------------------------------------------------------------


def _user_fields(update_fields) -> frozenset[str] | None:
    return None if update_fields is None else frozenset(update_fields)


def _user_pre_save(sender, instance: User, update_fields=None, **kwargs) -> None:
    if instance._state.adding or instance.pk is None:
        return  # a new user: nothing cached yet
    fields = _user_fields(update_fields)
    if fields is None or fields & AUTH_FIELDS:
        changing(instance.pk)


def _user_post_save(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    fields = _user_fields(update_fields)
    if not created and not (fields is not None and fields <= UNCACHED_FIELDS):
        changed(instance.pk)


def _user_pre_delete(sender, instance: User, **kwargs) -> None:
    changing(instance.pk)


def _user_post_delete(sender, instance: User, **kwargs) -> None:
    changed(instance.pk)


pre_save.connect(_user_pre_save, sender=User, dispatch_uid="signet.usercache.user.pre_save")
post_save.connect(_user_post_save, sender=User, dispatch_uid="signet.usercache.user.save")
pre_delete.connect(_user_pre_delete, sender=User, dispatch_uid="signet.usercache.user.pre_delete")
post_delete.connect(_user_post_delete, sender=User, dispatch_uid="signet.usercache.user.delete")
# No part of the payload reads email addresses today; their writes bump all
# the same, as they always have (a part that lists them needs nothing more).
userversions.track(EmailAddress, strict_delete=False)
