"""Second factors (TOTP, recovery codes) on allauth's headless contract.

Plugs into the accounts API through its hooks at start-up, as wallets does:
the login stage (accounts.flows.signin.login_stages), the flows a
401 lists, and the `mfa` section of /config.
"""

from __future__ import annotations

from django.apps import AppConfig

from accounts.hooks import hook_add


class MfaConfig(AppConfig):
    name = "accounts.mfa"
    label = "mfa"
    verbose_name = "Two-factor authentication"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.api import responses
        from accounts.flows import signin
        from accounts.mfa import admin, checks, crypto  # noqa: F401  (admin, checks register on import)
        from accounts.mfa.api import responses as mfa_responses
        from accounts.mfa.api import schema  # noqa: F401  (OpenAPI extensions register on import)
        from accounts.mfa.flows import authenticate

        crypto.fernet()  # a malformed MFA_ENCRYPTION_KEY stops start-up, naming the variable
        hook_add(signin.login_stages, authenticate.mfa_login_stage)
        hook_add(responses.reauthentication_flow_providers, mfa_responses.reauthenticate_flows)
        hook_add(responses.config_extensions, mfa_responses.mfa_config)
        hook_add(responses.flow_providers, mfa_responses.login_flows)
