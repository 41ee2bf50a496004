"""Start-up checks of the wallet settings (`manage.py check`, and every start)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from wallets.chains.base import Challenge, SignInFormat, build_signin_text
from wallets.flows.policy import chain_policy


def _statement_fits(statement: str) -> bool:
    """Would the sign-in text accept this statement? Ask the shared builder."""
    if not statement:
        return True
    now = datetime.now(UTC)
    sample = Challenge("x:y", "x", "example.com", "https://example.com", "0" * 22, now, now)
    try:
        build_signin_text(
            SignInFormat(label="X"), replace(sample, statement=statement), chain_id="y"
        )
    except ValueError:
        return False
    return True


@checks.register()
def wallet_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        chain_policy()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="wallets.E001"))
    if settings.WALLET_CHAINS and not settings.WALLET_DOMAINS:
        errors.append(
            checks.Error(
                "WALLET_DOMAINS is empty: wallet sign-in needs the domain(s) messages name.",
                id="wallets.E002",
            )
        )
    if not _statement_fits(settings.WALLET_STATEMENT):
        errors.append(
            checks.Error(
                "WALLET_STATEMENT must be one line of RFC 3986 characters (no quotes, no "
                "line breaks): it is part of every sign-in message.",
                id="wallets.E003",
            )
        )
    if settings.WALLET_CHALLENGE_TTL <= 0:
        errors.append(checks.Error("WALLET_CHALLENGE_TTL must be positive.", id="wallets.E004"))
    return errors
