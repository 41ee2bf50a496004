"""Step-up for sensitive changes: allauth's reauthentication semantics.

A change that lets whoever holds the session keep the account (adding,
removing or making an address primary, setting or changing the password,
linking or unlinking a wallet, ending the other sessions) needs an
authentication younger than ACCOUNT_REAUTHENTICATION_TIMEOUT while
ACCOUNT_REAUTHENTICATION_REQUIRED is on (the default). A stolen token alone
does not do: otherwise 401 with the flows the user can reauthenticate with
(`reauthenticate` with a usable password, `wallet_reauthenticate` with a
wallet), the same body as allauth's ReauthenticationRequired.

The proof is the session's method records (accounts.flows.signin):
each has its `at`; the newest is the last authentication, i.e. the sign-in
that made the session or a later reauthentication (`POST
/auth/reauthenticate`, or a wallet challenge signed with process
`reauthenticate`). allauth 65.22 counts explicit reauthentications only;
Signet counts the sign-in too, so a client that has just signed in is not
sent straight back to a password prompt.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from accounts import sessions as skeys


class ReauthenticationRequired(Exception):
    """The API answers it with 401, the user and the reauthentication flows."""


def authenticated_at(request: HttpRequest) -> float | None:
    """When this session last authenticated (signed in or reauthenticated)."""
    records = request.session.get(skeys.METHODS) or []
    times = [
        r["at"] for r in records if isinstance(r, dict) and isinstance(r.get("at"), int | float)
    ]
    return max(times, default=None)


def recently_authenticated(request: HttpRequest) -> bool:
    at = authenticated_at(request)
    return at is not None and time.time() - at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def require_reauthentication(request: HttpRequest) -> None:
    """Raise ReauthenticationRequired unless the session authenticated recently."""
    if settings.ACCOUNT_REAUTHENTICATION_REQUIRED and not recently_authenticated(request):
        raise ReauthenticationRequired
