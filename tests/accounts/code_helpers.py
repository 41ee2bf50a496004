"""Mailed codes as a user reads them, and a session aged as time would."""

from __future__ import annotations

import threading

from django.core import mail
from django.db import close_old_connections

from accounts.sessions import SessionStore
from tests.accounts.helpers import CODE


def code_in(message) -> str | None:
    match = CODE.search(message.body)
    if match:
        html = message.alternatives[0][0]
        assert match.group(0) in html  # the HTML part carries it too
    return match.group(0) if match else None


def code_for(address: str) -> str:
    """The code of the latest mail to `address`."""
    messages = [m for m in mail.outbox if m.to == [address]]
    assert messages, [m.subject for m in mail.outbox]
    code = code_in(messages[-1])
    assert code, messages[-1].body
    return code


def wrong(code: str) -> str:
    return "BBBB-BBBB" if code != "BBBB-BBBB" else "CCCC-CCCC"


def session_of(client):
    if client.kind == "app":
        return SessionStore(session_key=client.token)
    return client.http.session


def age(client, key: str, seconds: float) -> None:
    """Move the session's state under `key` (a pending flow) `seconds` back."""
    session = session_of(client)
    session[key] = {**session[key], "at": session[key]["at"] - seconds}
    session.save()


def without_token(body: dict) -> dict:
    """A body as another client would compare it: the app's own token aside."""
    meta = {k: v for k, v in body.get("meta", {}).items() if k != "session_token"}
    return {**body, "meta": meta}


def race(owner, count: int, send) -> list[int]:
    """`count` clients sharing `owner`'s session (token or cookies) call
    `send(client)` at once; their statuses."""
    from tests.conftest import HeadlessClient

    def twin():
        client = HeadlessClient(owner.kind)
        client.token = owner.token
        for name, morsel in owner.http.cookies.items():
            client.http.cookies[name] = morsel.value
        return client

    twins = [twin() for _ in range(count)]
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def run(client) -> None:
        barrier.wait()
        try:
            statuses.append(send(client).status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(t,)) for t in twins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == count
    return statuses
