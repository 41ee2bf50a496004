"""Authenticators in the admin: type, created, last used. Never a secret.

`data` holds the encrypted TOTP secret and the recovery codes' key and
hashes: it is not shown, and no lookup through it is allowed (a crafted
`?data__secret__startswith=` would otherwise let a staff user probe it
character by character). Rows are made by their owners only; removing one
(a lost phone) also removes the recovery codes it leaves dangling.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin_secrets import SecretSafeAdminMixin
from accounts.mfa.models import Authenticator

SHOWN = ("user", "type", "name", "created_at", "last_used_at")


def _remove_dangling_recovery_codes(user_ids) -> None:
    for user_id in set(user_ids):
        rows = Authenticator.objects.filter(user_id=user_id)
        if not rows.exclude(type=Authenticator.Type.RECOVERY_CODES).exists():
            rows.delete()


@admin.register(Authenticator)
class AuthenticatorAdmin(SecretSafeAdminMixin, admin.ModelAdmin):
    list_display = SHOWN
    list_filter = ("type", "created_at", "last_used_at")
    search_fields = ("user__email",)
    sortable_by = ("type", "created_at", "last_used_at")
    ordering = ("-created_at",)
    fields = SHOWN
    readonly_fields = SHOWN
    list_select_related = ("user",)

    @admin.display(description="name")
    def name(self, obj: Authenticator) -> str:
        # A WebAuthn key's own label (what the user called it); nothing else of `data`.
        return obj.data.get("name", "") if obj.type == Authenticator.Type.WEBAUTHN else ""

    def get_ordering(self, request: HttpRequest):
        return self.ordering

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Authenticator) -> None:
        super().delete_model(request, obj)
        _remove_dangling_recovery_codes([obj.user_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        user_ids = list(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        _remove_dangling_recovery_codes(user_ids)
