"""Signing in and out, what a session records about it, and ending sessions."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from django.contrib.auth import login, logout
from django.http import HttpRequest
from django.utils import timezone

from accounts import sessions as skeys
from accounts.email_spelling import email_key
from accounts.errors import ApiError, Code
from accounts.flows.reauthentication import require_reauthentication
from accounts.models import User, UserSession
from accounts.net import client_ip
from accounts.sessions import SessionStore, public_id
from accounts.signals import Event, emit

BACKEND = "accounts.backends.CachedModelBackend"


class Method(StrEnum):
    PASSWORD = "password"
    PASSWORD_RESET = "password_reset"
    WALLET = "wallet"


def method_record(method: str, **extra) -> dict:
    return {"method": method, "at": int(time.time()), **extra}


def email_origin(email: str) -> str:
    return f"email:{email_key(email)}"


def wallet_origin(namespace: str, address: str) -> str:
    # (namespace, canonical address) names a wallet: an EOA is one wallet on
    # every chain of its namespace, so the chain signed on does not matter.
    return f"wallet:{namespace}:{address}"


def session_origin(record: dict) -> str:
    """What a sign-in's method record signed the session in with."""
    if record["method"] == Method.WALLET:
        return wallet_origin(record["chain"].split(":", 1)[0], record["address"])
    return email_origin(record["email"]) if record.get("email") else ""


# A stage may stop a sign-in before login (accounts.mfa: the second factor):
# it records itself as the session's pending flow and returns True.
LoginStage = Callable[..., bool]
login_stages: list[LoginStage] = []


def complete_login(request: HttpRequest, *, user, record: dict) -> bool:
    """The one entrance of every sign-in (password, wallet, a verified signup):
    log in, unless a stage stops it first. True when `user` is now logged in."""
    for stage in login_stages:
        if stage(request, user=user, record=record):
            return False
    login_user(request, user, record)
    return True


def login_user(request: HttpRequest, user, record: dict) -> None:
    """Log `user` in on a fresh session key (the app client's token rotates)."""
    login(request, user, backend=BACKEND)  # record_session() fills the list columns
    session = request.session
    session.pop(skeys.PENDING, None)
    session[skeys.METHODS] = [record]
    session[skeys.ORIGIN] = session_origin(record)
    emit(request, Event.LOGIN, user=user, method=record["method"], chain=record.get("chain", ""))


def record_session(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """user_logged_in receiver: every sign-in, the API's or the Django admin's
    own login page, records what the session list shows, under a new public
    id, so each one can be listed and ended (GET/DELETE /auth/sessions)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[skeys.PUBLIC_ID] = skeys.new_public_id()
    session[skeys.IP] = client_ip(request)
    session[skeys.USER_AGENT] = request.headers.get("User-Agent", "")[:512]
    session[skeys.CREATED_AT] = now
    session[skeys.LAST_SEEN_AT] = now


def record_last_login(sender, user, **kwargs) -> None:
    """user_logged_in receiver, in place of Django's update_last_login: the same
    column, by one UPDATE without the model save machinery (its signals would
    find nothing to do: the user cache ignores last_login, see accounts.usercache)."""
    user.last_login = timezone.now()
    User._default_manager.filter(pk=user.pk).update(last_login=user.last_login)


def add_method(request: HttpRequest, record: dict) -> None:
    session = request.session
    session[skeys.METHODS] = [*session.get(skeys.METHODS, []), record]


def user_logout(request: HttpRequest) -> None:
    user = request.user if request.user.is_authenticated else None
    logout(request)
    if user is not None:
        emit(request, Event.LOGOUT, user=user)


def set_pending(request: HttpRequest, flow: str, user_id: int | None, **extra) -> None:
    request.session[skeys.PENDING] = {"flow": flow, "user": user_id, "at": time.time(), **extra}


def get_pending(request: HttpRequest, flow: str, timeout: int) -> dict | None:
    pending = request.session.get(skeys.PENDING)
    if not isinstance(pending, dict) or pending.get("flow") != flow:
        return None
    if time.time() - pending.get("at", 0) > timeout:
        request.session.pop(skeys.PENDING, None)
        return None
    return pending


def user_sessions(user):
    from django.utils import timezone

    return UserSession.objects.filter(user=user, expire_date__gt=timezone.now()).order_by(
        "-created_at"
    )


def end_sessions(keys) -> None:
    """Delete sessions from the database and the Redis read cache."""
    for key in keys:
        SessionStore(session_key=key).delete()


def end_other_sessions(user, keep: str | None) -> None:
    keys = UserSession.objects.filter(user=user).exclude(session_key=keep or "")
    end_sessions(list(keys.values_list("session_key", flat=True)))


def end_sessions_created_with(user_ids, origin: str, *, keep: str | None = None) -> int:
    """End the sessions of `user_ids` that `origin` signed in (an address being
    removed, a wallet being unlinked), all but `keep` (the current one).
    Needs Redis, as ending any session does: call it inside the transaction
    of the removal, so that a 503 leaves both in place."""
    if not origin:
        return 0  # "" is every session from before origins were recorded
    sessions = UserSession.objects.filter(user_id__in=list(user_ids), origin=origin)
    keys = list(sessions.exclude(session_key=keep or "").values_list("session_key", flat=True))
    end_sessions(keys)
    return len(keys)


def user_sessions_end(request: HttpRequest, *, ids: list[int]) -> bool:
    """End the user's sessions named by public id (allauth's DELETE
    /auth/sessions); True when this session was among them (signed out).
    Ending another session needs a recent authentication; ending only this
    one is a logout and does not."""
    ids = list(dict.fromkeys(ids))
    sessions = {s.public_id: s.session_key for s in user_sessions(request.user)}
    unknown = [str(i) for i in ids if i not in sessions]
    if unknown:
        # allauth's answer (a ModelMultipleChoiceField): 400 invalid_choice.
        message = "Unknown session id: " + ", ".join(unknown)
        raise ApiError(400, Code.INVALID_CHOICE, message, "sessions")
    current = public_id(request.session, request.session.session_key)
    others = [i for i in ids if i != current]
    if others:
        require_reauthentication(request)
    end_sessions([sessions[i] for i in others])
    for _ in others:
        emit(request, Event.SESSION_ENDED, user=request.user)
    if current in ids:
        user_logout(request)
        return True
    return False
