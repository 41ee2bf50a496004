"""One signal for every authentication event, so auditing, metrics and logs
subscribe in one place and the flows stay free of them.

    auth_event.send(sender=..., request=..., kind=Event.LOGIN, user=..., outcome=Outcome.SUCCESS,
                    method="password", chain=None, detail={...})

`detail` must never hold a secret (password, token, key, full signature).
"""

from __future__ import annotations

from django.dispatch import Signal

auth_event = Signal()


class Event:
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    SIGNUP = "signup"
    EMAIL_VERIFIED = "email_verified"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    REAUTHENTICATED = "reauthenticated"
    SESSION_ENDED = "session_ended"
    RATE_LIMITED = "rate_limited"
    WALLET_VERIFY = "wallet_verify"
    WALLET_LINKED = "wallet_linked"
    WALLET_UNLINKED = "wallet_unlinked"
    MFA_AUTHENTICATED = "mfa_authenticated"
    MFA_AUTHENTICATOR_ADDED = "mfa_authenticator_added"
    MFA_AUTHENTICATOR_REMOVED = "mfa_authenticator_removed"
    MFA_RECOVERY_CODES_GENERATED = "mfa_recovery_codes_generated"
    MFA_AUTHENTICATOR_RENAMED = "mfa_authenticator_renamed"
    MFA_BROWSER_TRUSTED = "mfa_browser_trusted"
    MFA_TRUSTED_BROWSER_USED = "mfa_trusted_browser_used"


class Outcome:
    SUCCESS = "success"
    FAILURE = "failure"


def emit(
    request,
    kind: str,
    *,
    user=None,
    outcome: str = Outcome.SUCCESS,
    method: str = "",
    chain: str = "",
    **detail,
) -> None:
    auth_event.send(
        sender=kind,
        request=request,
        kind=kind,
        user=user,
        outcome=outcome,
        method=method,
        chain=chain,
        detail=detail,
    )
