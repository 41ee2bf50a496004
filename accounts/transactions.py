"""Transaction helpers shared by the hot write paths."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from django.db import DEFAULT_DB_ALIAS, transaction


def savepoint_if_nested(using: str = DEFAULT_DB_ALIAS) -> AbstractContextManager:
    """For a write of one statement that must not poison the caller's transaction.

    Inside a transaction: a savepoint, so a failure rolls back only this write.
    In autocommit the statement is its own transaction already; an atomic block
    would add BEGIN and COMMIT, tripling its round trips.
    """
    if transaction.get_connection(using).in_atomic_block:
        return transaction.atomic(using=using)
    return nullcontext()
