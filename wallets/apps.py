"""Wallet sign-in: plugs into the accounts API through its hooks at start-up."""

from __future__ import annotations

from django.apps import AppConfig

from accounts.hooks import hook_add


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = "Wallets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from accounts import users
        from accounts.api import responses
        from wallets import chains, checks  # noqa: F401  (checks registers itself)
        from wallets.api import responses as wallet_responses
        from wallets.api import schema  # noqa: F401  (OpenAPI extensions register on import)
        from wallets.chains.evm import EvmFamily
        from wallets.models import Wallet

        # Contract wallets (EIP-1271/6492) need an RPC endpoint per chain id;
        # "eip155:1" and "1" both name chain 1.
        rpc = {
            str(chain_id).removeprefix("eip155:"): url
            for chain_id, url in settings.WALLET_EVM_RPC_URLS.items()
        }
        chains.register(EvmFamily(rpc=rpc))
        hook_add(responses.flow_providers, wallet_responses.wallet_flows)
        hook_add(
            responses.reauthentication_flow_providers,
            wallet_responses.wallet_reauthentication_flows,
        )
        # The user payload lists the wallets; unlinking one must reach the cache first.
        users.user_part(wallet_responses.user_wallets, model=Wallet, strict_delete=True)
        hook_add(responses.config_extensions, wallet_responses.wallet_config)
