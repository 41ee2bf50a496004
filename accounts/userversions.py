"""Versions of each user's cached data, and every write that moves them.

The user cache (accounts.usercache) serves an entry only while it carries the
user's current version. This module is the writing half: whatever changes a
user's row, or a row a part of the user payload reads (accounts.users), bumps
that user's version, by construction rather than by convention:

- `save()` and `delete()` (queryset deletes too: they send the signals) reach
  the receivers `track` connects, and usercache's for the User itself;
- `update()`, `bulk_update()` and `bulk_create()` send no signal, so the
  models' managers are built on `UserDataQuerySet`, whose versions of them
  bump the owners of the rows they write. `track` refuses a model whose
  manager is not (ImproperlyConfigured at start-up).

A write that matters for authentication (`strict_fields`: password,
is_active, staff flags; a strict delete) bumps before it writes and is refused
when Redis does not answer (RedisError: 503, nothing written); others bump
after, best-effort. Either way `changed` bumps again once the transaction
commits. Writes outside the ORM (raw SQL, data migrations, whose historical
models have plain managers) are backed only by the entries' TTL.

No import of accounts.models here: the models import this module.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from redis.exceptions import RedisError

from accounts import redis as accounts_redis

logger = logging.getLogger(__name__)

# Versions outlive entries; one that expired is simply drawn afresh.
VERSION_TTL = 24 * 3600
# Writes of these User fields alone leave the cache as it is: every login
# writes last_login, and nothing reads it off the signed-in user
# (password-reset tokens and the admin read the database).
UNCACHED_FIELDS = frozenset({"last_login"})
# A write that may touch these must reach Redis before it writes.
AUTH_FIELDS = frozenset({"password", "is_active", "is_staff", "is_superuser"})
# Bumps per Redis round trip for a bulk write.
_PIPELINE_CHUNK = 500

# Bumped by every change this process makes: a payload loaded before it is stale.
_generation = 0


def generation() -> int:
    return _generation


def _client():
    return accounts_redis.redis_client()


@lru_cache(maxsize=1)
def user_fields() -> tuple[str, ...]:
    """The User columns a cache entry holds, in order."""
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


def key_prefixes() -> list[str]:
    """The version and entry keys of a user are these followed by its id."""
    return list(_key_prefixes(settings.REDIS_KEY_PREFIX))


@lru_cache(maxsize=4)
def _key_prefixes(_prefix: str) -> tuple[str, str]:
    # Entries written by a deployment with other columns never match this one.
    schema = hashlib.sha256(",".join(user_fields()).encode()).hexdigest()[:8]
    key = accounts_redis.redis_key  # reads settings.REDIS_KEY_PREFIX itself
    return key("user", "v", ""), key("user", schema, "")


def keys(user_id: Any) -> tuple[str, str]:
    uid = str(int(user_id))
    version_prefix, entry_prefix = key_prefixes()
    return version_prefix + uid, entry_prefix + uid


def _bump(user_ids: Iterable[Any], *, strict: bool) -> None:
    ids = sorted({int(uid) for uid in user_ids})
    try:
        for start in range(0, len(ids), _PIPELINE_CHUNK):
            pipe = _client().pipeline(transaction=False)
            for uid in ids[start : start + _PIPELINE_CHUNK]:
                version_key, entry_key = keys(uid)
                pipe.incr(version_key)
                pipe.expire(version_key, VERSION_TTL)
                pipe.delete(entry_key)
            pipe.execute()
    except RedisError:
        if strict:
            raise
        logger.warning("user cache not invalidated (redis unavailable); entries expire")


def uncommitted(connection) -> set[int]:
    """Users this connection changed in its open transaction (see `changed`)."""
    pending = getattr(connection, "_signet_uncommitted_users", None)
    if pending is None:
        pending = connection._signet_uncommitted_users = set()
    return pending


def changing(*user_ids: Any) -> None:
    """Before a write that matters for authentication: bump now, or raise
    RedisError (nothing written yet). `changed` must follow the write."""
    global _generation
    _generation += 1
    _bump(user_ids, strict=True)


def changed(*user_ids: Any) -> None:
    """After a write to the users' data: bump now, and again once it commits
    when it is part of a transaction (a reader may fill the cache with the
    last committed state in between; the second bump retires that entry)."""
    global _generation
    ids = {int(uid) for uid in user_ids if uid is not None}
    if not ids:
        return
    _generation += 1
    _bump(ids, strict=False)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        uncommitted(connection).update(ids)

        def committed() -> None:
            uncommitted(connection).difference_update(ids)
            _bump(ids, strict=False)

        transaction.on_commit(committed)


class UserDataQuerySet(models.QuerySet):
    """A queryset whose signal-less bulk writes bump the owners' versions.

    `owner` names the field holding the user ("pk" for User itself). The
    rows are locked while their owners are read, so the rows written and the
    users bumped are the same set whatever runs beside.
    """

    owner = "user"
    strict_fields: frozenset[str] = frozenset()
    uncached_fields: frozenset[str] = frozenset()

    def _owner_names(self) -> set[str]:
        if self.owner == "pk":
            return set()
        field = self.model._meta.get_field(self.owner)
        return {field.name, field.attname}

    def _owner_column(self) -> str:
        return "pk" if self.owner == "pk" else self.model._meta.get_field(self.owner).attname

    def _owners(self, queryset) -> set[Any]:
        column = self._owner_column()
        return set(queryset.values_list(column, flat=True)) - {None}

    def update(self, **kwargs: Any) -> int:
        fields = frozenset(kwargs)
        if self.query.is_sliced or fields <= self.uncached_fields:
            return super().update(**kwargs)  # nothing cached changes (or Django refuses)
        self._for_write = True
        column = self._owner_column()
        with transaction.atomic(using=self.db):
            rows = list(self.select_for_update(of=("self",)).values_list("pk", column))
            written = self.model._base_manager.using(self.db).filter(pk__in=[r[0] for r in rows])
            owners = {r[1] for r in rows} - {None}
            if fields & self.strict_fields:
                changing(*owners)
            count = written.update(**kwargs)
            if fields & self._owner_names():
                owners |= self._owners(written)  # the new owners: values may be expressions
            changed(*owners)
        return count

    update.alters_data = True

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        objs, names = list(objs), frozenset(fields)
        if names <= self.uncached_fields:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        self._for_write = True
        with transaction.atomic(using=self.db):
            pks = [obj.pk for obj in objs]
            locked = self.model._base_manager.using(self.db).filter(pk__in=pks)
            owners = self._owners(locked.select_for_update(of=("self",)))
            if names & self.strict_fields:
                changing(*owners)
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            changed(*owners, *(getattr(obj, self._owner_column()) for obj in objs))
        return count

    bulk_update.alters_data = True

    def bulk_create(self, objs, *args: Any, **kwargs: Any) -> list:
        created = super().bulk_create(objs, *args, **kwargs)
        # New rows of an owned model change their owner's payload; with
        # update_conflicts an existing row may have changed too.
        changed(*(getattr(obj, self._owner_column()) for obj in created))
        return created

    bulk_create.alters_data = True


def track(model: type[models.Model], *, strict_delete: bool) -> None:
    """Bump the owner's version whenever a `model` row changes.
    `strict_delete`: a delete must reach Redis first (e.g. unlinking a wallet)."""
    queryset = model._default_manager.get_queryset()
    if not isinstance(queryset, UserDataQuerySet):
        raise ImproperlyConfigured(
            f"{model._meta.label}'s manager must be built on accounts.userversions."
            "UserDataQuerySet: its update() would leave the user cache stale."
        )
    uid = f"signet.usercache.{model._meta.label_lower}"
    column = queryset._owner_column()

    def on_change(sender, instance, **kwargs) -> None:
        changed(getattr(instance, column))

    def before_delete(sender, instance, **kwargs) -> None:
        changing(getattr(instance, column))

    post_save.connect(on_change, sender=model, weak=False, dispatch_uid=uid + ".save")
    post_delete.connect(on_change, sender=model, weak=False, dispatch_uid=uid + ".delete")
    if strict_delete:
        pre_delete.connect(before_delete, sender=model, weak=False, dispatch_uid=uid + ".pre")
