"""Step-up for MFA changes: the session's newest authentication must be
younger than ACCOUNT_REAUTHENTICATION_TIMEOUT.

One function on purpose: when the project's shared step-up check lands
(password, wallet and mfa reauthentication alike), it replaces this one.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from accounts import sessions as skeys


class ReauthenticationRequired(Exception):
    """Answered as 401 with the user, their methods and the reauthentication flows."""


def require_recent_authentication(request: HttpRequest) -> None:
    methods = request.session.get(skeys.METHODS) or []
    newest = max((m.get("at", 0) for m in methods if isinstance(m, dict)), default=0)
    if time.time() - newest > settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
        raise ReauthenticationRequired
