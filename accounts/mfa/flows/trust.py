"""Trust this browser (allauth's `mfa_trust` stage, MFA_TRUST_ENABLED).

On the browser client, a sign-in completed with a second factor stops once
more, at `mfa_trust`; POST /auth/2fa/trust `{trust}` then signs in, and with
`trust: true` sets a cookie that lets the next sign-ins of that user from
that browser skip the second factor for MFA_TRUST_COOKIE_AGE seconds.

The cookie is allauth's design: a signed list of (fingerprint, issued at),
one entry per user trusted on the browser. A fingerprint is an HMAC (under
SECRET_KEY) of what the user's security rests on: the user's id, their session
hash (so their password), and the id and type of each of their authenticators.
So an entry is worth nothing for another user, and dies with a password
change, a removed or added authenticator, or new recovery codes (a new row).
It only ever skips the second factor: the first one is asked as always, and
reauthentication (`mfa_reauthenticate`) never looks at it.

The app client holds no cookies: it never sees `mfa_trust`, and a trust cookie
it sends is ignored (allauth honours one; Signet reads it on the browser only).
"""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from accounts.clients import Client, request_client
from accounts.flows.signin import add_method, login_user, set_pending
from accounts.mfa.models import Authenticator
from accounts.signals import Event, emit

FLOW_TRUST = "mfa_trust"
METHOD = "mfa"
SALT = "signet.mfa.trust"
# Users one browser remembers at once (the newest win): the cookie stays far
# below browsers' 4 KB limit whatever a shared computer sees.
MAX_ENTRIES = 10


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def fingerprint(user) -> str:
    """What an entry is bound to: changes whenever the user's factors do."""
    parts = [str(user.pk), user.get_session_auth_hash()]
    for pk, type_ in (
        Authenticator.objects.filter(user_id=user.pk).order_by("pk").values_list("pk", "type")
    ):
        parts += [str(pk), type_]
    return salted_hmac(SALT, "|".join(parts), algorithm="sha256").hexdigest()


def _entries(request: HttpRequest) -> list[tuple[str, int]]:
    """The cookie's unexpired entries; none when it is absent, forged or malformed."""
    value = request.COOKIES.get(settings.MFA_TRUST_COOKIE_NAME)
    if not value:
        return []
    try:
        data = _signer().unsign_object(value)
    except signing.BadSignature:
        return []
    if not isinstance(data, list):
        return []
    oldest = time.time() - settings.MFA_TRUST_COOKIE_AGE
    return [
        (entry[0], entry[1])
        for entry in data
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and entry[1] > oldest
    ]


def _enabled(request: HttpRequest) -> bool:
    return settings.MFA_TRUST_ENABLED and request_client(request) is Client.BROWSER


def is_trusted(request: HttpRequest, user) -> bool:
    """Whether this browser was trusted by `user`, in their current setup."""
    if not _enabled(request):
        return False
    entries = _entries(request)
    if not entries:
        return False
    mine = fingerprint(user)
    return any(hmac.compare_digest(fp, mine) for fp, _at in entries)


def trusted_skip(request: HttpRequest, user) -> bool:
    """The login stage's question: skip the second factor? (audited when so)"""
    if not is_trusted(request, user):
        return False
    emit(request, Event.MFA_TRUSTED_BROWSER_USED, user=user, method=METHOD)
    return True


def trust_stage(request: HttpRequest, *, user, pending: dict, record: dict) -> bool:
    """After a second factor: stop at `mfa_trust` (True), browser and setting allowing."""
    if not _enabled(request):
        return False
    set_pending(
        request,
        FLOW_TRUST,
        user.pk,
        record=pending["record"],
        mfa=record,
        hash=user.get_session_auth_hash(),
    )
    return True


def mfa_trust(request: HttpRequest, *, user, pending: dict, trust: bool) -> str | None:
    """Complete the sign-in waiting at `mfa_trust`; with `trust`, the new
    cookie value (this user's entry added, the expired ones dropped)."""
    login_user(request, user, pending["record"])
    add_method(request, pending["mfa"])
    if not trust:
        return None
    mine = fingerprint(user)
    entries = [(fp, at) for fp, at in _entries(request) if fp != mine]
    entries = [*entries, (mine, int(time.time()))][-MAX_ENTRIES:]
    emit(request, Event.MFA_BROWSER_TRUSTED, user=user, method=METHOD)
    return _signer().sign_object([list(e) for e in entries])


def cookie_write(response: HttpResponse, value: str) -> None:
    """Set the trust cookie with the session cookie's attributes (allauth's defaults)."""
    response.set_cookie(
        settings.MFA_TRUST_COOKIE_NAME,
        value,
        max_age=settings.MFA_TRUST_COOKIE_AGE,
        domain=getattr(settings, "MFA_TRUST_COOKIE_DOMAIN", settings.SESSION_COOKIE_DOMAIN),
        path=getattr(settings, "MFA_TRUST_COOKIE_PATH", settings.SESSION_COOKIE_PATH),
        secure=getattr(settings, "MFA_TRUST_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE),
        httponly=getattr(settings, "MFA_TRUST_COOKIE_HTTPONLY", settings.SESSION_COOKIE_HTTPONLY),
        samesite=getattr(settings, "MFA_TRUST_COOKIE_SAMESITE", settings.SESSION_COOKIE_SAMESITE),
    )
