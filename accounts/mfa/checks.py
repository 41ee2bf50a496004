"""Start-up checks of the MFA settings: allauth's (allauth.mfa.checks), as
Django system checks, so `manage.py check` (and every start) refuses a passkey
signup that could not complete."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register()
def passkey_signup(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not settings.MFA_PASSKEY_SIGNUP_ENABLED:
        return []
    problems = []
    if not (settings.WEBAUTHN_RP_ID and settings.WEBAUTHN_ORIGINS):
        # allauth: MFA_SUPPORTED_TYPES must include "webauthn"; Signet always
        # supports it, given the relying party it binds ceremonies to.
        problems.append("MFA_PASSKEY_SIGNUP_ENABLED requires WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS")
    if not settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED:
        # The signup being passkey-based lives in the session, which a link
        # opened elsewhere does not have (allauth's reason).
        problems.append(
            "MFA_PASSKEY_SIGNUP_ENABLED requires ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED"
        )
    if settings.ACCOUNT_EMAIL_VERIFICATION != "mandatory":
        problems.append(
            "MFA_PASSKEY_SIGNUP_ENABLED requires ACCOUNT_EMAIL_VERIFICATION = 'mandatory'"
        )
    return [checks.Critical(problem, id="mfa.C001") for problem in problems]
