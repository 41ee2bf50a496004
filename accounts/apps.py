from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        # auth_event receivers; admin; the user cache's model signals
        from accounts import audit, audit_admin, checks, usercache  # noqa: F401
        from accounts.api import schema  # noqa: F401  (OpenAPI extensions register on import)
        from accounts.flows.signin import record_last_login, record_session

        # last_login by one UPDATE instead of a model save (accounts.flows.signin).
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(record_last_login, dispatch_uid="signet.record_last_login")
        # Session list columns for every login(), the admin's included.
        user_logged_in.connect(record_session, dispatch_uid="signet.record_session")
