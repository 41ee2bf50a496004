"""JWT access and refresh tokens for the app client (SIGNET_TOKEN_STRATEGY=jwt).

Plugs into the accounts API through its hooks at start-up, as accounts.mfa
does: the meta of an answer that hands out a new session token, and the app
client's request user. The hooks do nothing under the session strategy.
"""

from __future__ import annotations

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out

from accounts.hooks import hook_add


def _revoke_on_logout(sender, request, user, **kwargs) -> None:
    from accounts import sessions as skeys
    from accounts.tokens import flows

    if user is None:
        return
    claims = getattr(user, "token_claims", None)
    if claims is not None:
        # Logged out with the access token alone: end the session it names.
        flows.session_end(user_id=user.pk, sid=claims["sid"])
        return
    session = getattr(request, "session", None)
    if session is not None:
        flows.tokens_revoke_session(user_id=user.pk, sid=session.get(skeys.PUBLIC_ID))


class TokensConfig(AppConfig):
    name = "accounts.tokens"
    label = "tokens"
    verbose_name = "Access and refresh tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import middleware
        from accounts.api import responses
        from accounts.tokens import drf_auth, flows, keys
        from accounts.tokens.api import schema  # noqa: F401  (OpenAPI extension registers on import)

        if flows.enabled():
            keys.signing_keys()  # a missing or malformed key stops start-up, naming the variable
        hook_add(responses.token_meta_providers, flows.tokens_issue)
        hook_add(middleware.access_token_users, drf_auth.access_token_user)
        user_logged_out.connect(_revoke_on_logout, dispatch_uid="tokens.revoke_on_logout")
