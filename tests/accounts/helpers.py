from __future__ import annotations

import re

from django.core import mail

LINK = re.compile(r"https://app\.example\.com/account/(?:verify-email|password/reset/key)/(\S+)")


def key_from_mail(index: int = -1) -> str:
    message = mail.outbox[index]
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def anonymous_flows(*, signup: bool = True, pending: str | None = None) -> list[dict]:
    flows = [{"id": "login"}]
    if signup:
        flows.append({"id": "signup"})
    flows.append({"id": "wallet_login"})
    if pending:
        flows.append({"id": pending, "is_pending": True})
    return flows


def age_authentication(client, seconds: float) -> None:
    """Move the client's sign-in (and any reauthentication) `seconds` into the
    past, as if the session had been stolen that long ago."""
    from accounts.sessions import METHODS, SessionStore

    store = SessionStore(session_key=client.token) if client.kind == "app" else client.http.session
    store[METHODS] = [{**record, "at": record["at"] - seconds} for record in store[METHODS]]
    store.save()
