"""What the wallet endpoints answer, and the wallet parts of the accounts
responses (plugged in through the accounts hooks by WalletsConfig.ready)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest

from wallets.challenges import IssuedChallenge
from wallets.flows.policy import wallet_login_enabled
from wallets.flows.wallets import wallet_list
from wallets.models import Wallet

WALLET_LOGIN_FLOW = "wallet_login"
# Signet's addition to allauth's flows: step up by signing a `reauthenticate` challenge.
WALLET_REAUTHENTICATE_FLOW = "wallet_reauthenticate"


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def wallet_data(wallet: Wallet) -> dict:
    return {
        "id": wallet.pk,
        "chain": wallet.chain,
        "address": wallet.address,
        "account_id": wallet.account_id,
        "created_at": _ts(wallet.created_at),
        "last_used_at": _ts(wallet.last_used_at),
    }


def wallets_data(user) -> list[dict]:
    return [wallet_data(wallet) for wallet in wallet_list(user=user)]


def challenge_data(issued: IssuedChallenge, message: str) -> dict:
    return {
        "nonce": issued.nonce,
        "message": message,
        "issued_at": _ts(issued.issued_at),
        "expires_at": _ts(issued.expires_at),
    }


# --- accounts hooks ---------------------------------------------------------


def user_wallets(user) -> dict:
    """accounts.users.user_part: the User object's `wallets`."""
    return {"wallets": wallets_data(user)}


def wallet_flows(request: HttpRequest) -> list[dict]:
    """accounts.api.responses.flow_providers: `wallet_login` when it is enabled."""
    return [{"id": WALLET_LOGIN_FLOW}] if wallet_login_enabled() else []


def wallet_reauthentication_flows(user) -> list[dict]:
    """accounts.api.responses.reauthentication_flow_providers: for a user with a wallet."""
    if not wallet_login_enabled() or not wallet_list(user=user):
        return []
    return [{"id": WALLET_REAUTHENTICATE_FLOW}]


def wallet_config(request: HttpRequest) -> dict:
    """accounts.api.responses.config_extensions: /config's `wallet`."""
    return {
        "wallet": {
            "chains": list(settings.WALLET_CHAINS),
            "domains": list(settings.WALLET_DOMAINS),
        }
    }
