"""Deleting many rows without one long lock on a busy table."""

from __future__ import annotations

from django.db.models import QuerySet

BATCH = 5000


def delete_in_batches(rows: QuerySet) -> int:
    """Delete `rows` BATCH primary keys at a time; the number deleted. Each
    batch is its own statement, so sign-ins writing the table wait at most
    for one batch, however large the backlog."""
    model, batch = rows.model, BATCH
    deleted = 0
    while True:
        keys = list(rows.values_list("pk", flat=True)[:batch])
        if not keys:
            return deleted
        deleted += model._default_manager.filter(pk__in=keys).delete()[0]
