"""Bodies of the MFA endpoints (allauth's headless mfa responses) and the
hooks accounts' responses call: reauthentication flows and /config."""

from __future__ import annotations

from django.conf import settings

from accounts.mfa import recovery_codes
from accounts.mfa.flows.authenticate import FLOW_REAUTHENTICATE, active_types
from accounts.mfa.flows.webauthn import passkey_signup_enabled
from accounts.mfa.models import Authenticator

FLOW_LOGIN_WEBAUTHN = "mfa_login_webauthn"
SUPPORTED_TYPES = [t.value for t in Authenticator.Type]  # allauth's order


def _ts(value) -> float | None:
    return value.timestamp() if value else None


def authenticator_data(authenticator: Authenticator, *, codes: list[str] | None = None) -> dict:
    data = {
        "type": authenticator.type,
        "created_at": authenticator.created_at.timestamp(),
        "last_used_at": _ts(authenticator.last_used_at),
    }
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        data["total_code_count"] = recovery_codes.total_count(authenticator.data)
        data["unused_code_count"] = recovery_codes.unused_count(authenticator.data)
        if codes is not None:
            data["unused_codes"] = codes
    elif authenticator.type == Authenticator.Type.WEBAUTHN:
        data["id"] = authenticator.pk
        data["name"] = authenticator.data.get("name", "")
        if "passwordless" in authenticator.data:
            data["is_passwordless"] = authenticator.data["passwordless"]
    return data


def reauthenticate_flows(user) -> list[dict]:
    types = active_types(user)
    return [{"id": FLOW_REAUTHENTICATE, "types": types}] if types else []


def login_flows(request) -> list[dict]:
    """accounts.api.responses.flow_providers: passkey login, when enabled."""
    return [{"id": FLOW_LOGIN_WEBAUTHN}] if settings.MFA_PASSKEY_LOGIN_ENABLED else []


def mfa_config(request) -> dict:
    return {
        "mfa": {
            "supported_types": SUPPORTED_TYPES,
            "passkey_login_enabled": settings.MFA_PASSKEY_LOGIN_ENABLED,
            # Signet's: allauth 65's /config does not say (its SPA is built knowing).
            "passkey_signup_enabled": passkey_signup_enabled(),
        }
    }
