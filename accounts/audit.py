"""The audit trail, and the one place every auth_event subscriber is connected.

`record` writes an AuthEvent row for each event a flow reports (accounts.signals).
It writes at once rather than through `transaction.on_commit`:

- every flow emits after its own writes, and no request runs in an outer
  transaction (ATOMIC_REQUESTS is off), so the row commits straight away;
- should a flow ever emit inside a transaction that then rolls back, the row
  goes with it: the trail never records a change that did not happen;
- inside a transaction a savepoint keeps a failed insert from poisoning the
  caller's transaction (in autocommit the INSERT is its own transaction: no
  BEGIN/COMMIT around it), and the error is logged, never raised: auditing
  must not break sign-in.

Rate-limit refusals are counted and logged but not stored: they arrive at the
attacker's pace, and a row for each would turn a flood into database writes.

Imported from AccountsConfig.ready(), with accounts.audit_admin.
"""

from __future__ import annotations

import ipaddress
import logging

from django.db import DatabaseError

from accounts import metrics, observability
from accounts.models import AuthEvent
from accounts.net import client_ip
from accounts.signals import Event, auth_event
from accounts.transactions import savepoint_if_nested

logger = logging.getLogger(__name__)

NOT_STORED = frozenset({Event.RATE_LIMITED})


def _field(value: str | None, name: str) -> str:
    return (value or "")[: AuthEvent._meta.get_field(name).max_length]


def _ip(request) -> str | None:
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


def record(
    *, request=None, kind: str, outcome: str, user=None, method="", chain="", detail=None, **_
) -> None:
    if kind in NOT_STORED:
        return
    event = AuthEvent(
        user=user if user is not None and user.pk is not None and user.is_authenticated else None,
        kind=_field(kind, "kind"),
        outcome=_field(outcome, "outcome"),
        method=_field(method, "method"),
        chain=_field(chain, "chain"),
        ip=_ip(request),
        user_agent=_field(request.headers.get("User-Agent") if request else "", "user_agent"),
        detail=observability.redact_value(dict(detail or {})),
    )
    try:
        with savepoint_if_nested():
            event.save()
    except DatabaseError as exc:
        logger.error("auth event %s not recorded: %s", kind, exc.__class__.__name__)


auth_event.connect(record, dispatch_uid="signet.audit.record")
auth_event.connect(metrics.count_auth_event, dispatch_uid="signet.metrics.auth")
auth_event.connect(observability.log_auth_event, dispatch_uid="signet.logs.auth")
