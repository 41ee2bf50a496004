from __future__ import annotations

import re

from django.core import mail

LINK = re.compile(r"https://app\.example\.com/account/(?:verify-email|password/reset/key)/(\S+)")


CODE = re.compile(r"\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b")


def code_from_mail(address: str) -> str:
    """The code (accounts.codes) in the latest mail to `address` that has one."""
    messages = [m for m in mail.outbox if m.to == [address] and CODE.search(m.body)]
    assert messages, [m.subject for m in mail.outbox]
    return CODE.search(messages[-1].body).group(0)


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


def outbox_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def has_link(message) -> bool:
    return LINK.search(message.body) is not None


def key_for(address: str) -> str:
    """The key of the latest link mailed to `address`."""
    messages = [m for m in outbox_to(address) if has_link(m)]
    assert messages, [m.subject for m in mail.outbox]
    return LINK.search(messages[-1].body).group(1)


def wallet_user(client, wallet=None):
    """Sign `client` in with a fresh throwaway wallet (a wallet-only user); the user id."""
    from tests.wallets.conftest import EvmWallet
    from tests.wallets.helpers import sign_in

    response = sign_in(client, wallet or EvmWallet())
    assert response.status_code == 200, response.content
    return response.json()["data"]["user"]["id"]


def age_authentication(client, seconds: float) -> None:
    """Move the client's sign-in (and any reauthentication) `seconds` into the
    past, as if the session had been stolen that long ago."""
    from accounts.sessions import METHODS, SessionStore

    store = SessionStore(session_key=client.token) if client.kind == "app" else client.http.session
    store[METHODS] = [{**record, "at": record["at"] - seconds} for record in store[METHODS]]
    store.save()
