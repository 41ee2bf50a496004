"""A Redis read cache of signed-in users, so an authenticated read needs no SQL.

Every authenticated request loads its user (Django's `get_user`) and the
session endpoints serialize it with its wallets: two queries, half the cost of
`GET /auth/session`. One cache entry per user holds both, the User row and the
serialized payload (`accounts.api.responses.serialize_user`). The session read
brings the entry and the user's version along (accounts.sessions, one Lua
call); otherwise one MGET reads them. A sign-in's response fills the entry
that the client's next session read then finds.

Correctness rests on the version, not on deleting entries:

- every change to a user's row, wallets or email addresses INCRs the user's
  version after the write, and again once its transaction commits
  (`changed`); an entry is served only while it carries the current version;
- a reader takes the version *before* it reads the database, and stores what
  it read under that version. A change that commits after that read bumps the
  version past it, so a stale fill can never be served (deleting the entry
  instead would lose to a reader that read before the commit and writes after
  the delete);
- changes that matter for authentication (password, is_active, staff flags,
  deleting a user or a wallet) also bump *before* they write, and refuse the
  write when Redis does not answer (RedisError: 503, nothing changed), as
  ending a session does (accounts.sessions). Other changes bump best-effort;
- entries live `ENTRY_TTL` seconds: the backstop for writes no signal sees
  (`QuerySet.update()`; the flows that use it call `changed` themselves).

A read inside a transaction that changed the user (its own uncommitted
write) is served but not stored: if the transaction rolled back, no commit
would bump the entry away.

Reads never fail because of the cache: any Redis error reads the database.
Saves that touch only `last_login` bump nothing (every login does one; nothing
reads `last_login` off the signed-in user: password-reset tokens and the admin
read the database).

Within a request, the payload loaded with the user is reused only while this
process has made no change since (`_generation`): a flow that links a wallet
and answers with the user sees its own write.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from redis.exceptions import RedisError

from accounts import redis as accounts_redis
from accounts.models import EmailAddress, User

logger = logging.getLogger(__name__)

ENTRY_TTL = 60
# Versions outlive entries; one that expired is simply drawn afresh.
VERSION_TTL = 24 * 3600
# Saves of these fields alone leave the cache as it is (see above).
UNCACHED_FIELDS = frozenset({"last_login"})
# A save that may touch these must reach Redis before it writes.
AUTH_FIELDS = frozenset({"password", "is_active", "is_staff", "is_superuser"})

FIELDS = tuple(field.attname for field in User._meta.concrete_fields)
# Entries written by a deployment with other columns never match this one.
_SCHEMA = hashlib.sha256(",".join(FIELDS).encode()).hexdigest()[:8]

# Bumped by every change this process makes: a payload loaded before it is stale.
_generation = 0


def _client():
    return accounts_redis.redis_client()


def key_prefixes() -> list[str]:
    """The version and entry keys of a user are these followed by its id."""
    return list(_key_prefixes(settings.REDIS_KEY_PREFIX))


@lru_cache(maxsize=4)
def _key_prefixes(_prefix: str) -> tuple[str, str]:
    key = accounts_redis.redis_key  # reads settings.REDIS_KEY_PREFIX itself
    return key("user", "v", ""), key("user", _SCHEMA, "")


def _keys(user_id: Any) -> tuple[str, str]:
    uid = str(int(user_id))
    version_prefix, entry_prefix = key_prefixes()
    return version_prefix + uid, entry_prefix + uid


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


def _build_payload(user: User) -> dict:
    from accounts.api.responses import build_user_payload  # the hooks live there

    return build_user_payload(user)


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
    generation = _generation
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
    payload = _build_payload(user)
    if _may_fill(user_id):
        values = tuple(getattr(user, name) for name in FIELDS)
        try:
            client.set(entry_key, pickle.dumps((version, values, payload), 5), ex=ENTRY_TTL)
        except RedisError:
            pass  # served from the database this time
    return _stash(user, payload, generation)


def _uncommitted(connection) -> set[int]:
    """Users this connection changed in its open transaction (see `changed`)."""
    pending = getattr(connection, "_signet_uncommitted_users", None)
    if pending is None:
        pending = connection._signet_uncommitted_users = set()
    return pending


def _may_fill(user_id: Any) -> bool:
    """A read that saw this connection's own uncommitted change must not be
    cached: if the transaction rolled back, nothing would bump it away."""
    connection = transaction.get_connection()
    pending = _uncommitted(connection)
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
    if stash is None or stash[0] != _generation:
        return None
    return stash[1]


# --- Invalidation -----------------------------------------------------------


def _bump(user_id: Any, *, strict: bool) -> None:
    version_key, entry_key = _keys(user_id)
    try:
        pipe = _client().pipeline(transaction=False)
        pipe.incr(version_key)
        pipe.expire(version_key, VERSION_TTL)
        pipe.delete(entry_key)
        pipe.execute()
    except RedisError:
        if strict:
            raise
        logger.warning("user cache not invalidated (redis unavailable); entries expire")


def changing(user_id: Any) -> None:
    """Before a write that matters for authentication: bump now, or raise
    RedisError (nothing written yet). `changed` must follow the write."""
    global _generation
    _generation += 1
    _bump(user_id, strict=True)


def changed(user_id: Any) -> None:
    """After a write to the user's data: bump now, and again once it commits
    when it is part of a transaction (a reader may fill the cache with the
    last committed state in between; the second bump retires that entry)."""
    global _generation
    _generation += 1
    _bump(user_id, strict=False)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        _uncommitted(connection).add(int(user_id))

        def committed() -> None:
            _uncommitted(connection).discard(int(user_id))
            _bump(user_id, strict=False)

        transaction.on_commit(committed)


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


def track(model, *, strict_delete: bool) -> None:
    """Bump the owner's version when a `model` row (with a `user_id`) changes.
    `strict_delete`: a delete must reach Redis first (e.g. unlinking a wallet)."""
    uid = f"signet.usercache.{model._meta.label_lower}"

    def on_change(sender, instance, **kwargs) -> None:
        changed(instance.user_id)

    def before_delete(sender, instance, **kwargs) -> None:
        changing(instance.user_id)

    post_save.connect(on_change, sender=model, weak=False, dispatch_uid=uid + ".save")
    post_delete.connect(on_change, sender=model, weak=False, dispatch_uid=uid + ".delete")
    if strict_delete:
        pre_delete.connect(before_delete, sender=model, weak=False, dispatch_uid=uid + ".pre")


pre_save.connect(_user_pre_save, sender=User, dispatch_uid="signet.usercache.user.pre_save")
post_save.connect(_user_post_save, sender=User, dispatch_uid="signet.usercache.user.save")
pre_delete.connect(_user_pre_delete, sender=User, dispatch_uid="signet.usercache.user.pre_delete")
post_delete.connect(_user_post_delete, sender=User, dispatch_uid="signet.usercache.user.delete")
track(EmailAddress, strict_delete=False)
