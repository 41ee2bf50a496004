"""The audit trail in the admin: read-only, filterable, searchable.

Nobody edits history: no add, change or delete permission, whatever the
user's own permissions say (rows go only through `prune_auth_events`).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin_secrets import SecretSafeAdminMixin
from accounts.models import AuthEvent


@admin.register(AuthEvent)
class AuthEventAdmin(SecretSafeAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "outcome", "method", "chain", "user", "ip")
    list_filter = ("kind", "outcome", "method", "chain", "created_at")
    search_fields = ("user__email", "ip")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_select_related = ("user",)
    readonly_fields = (
        "created_at",
        "kind",
        "outcome",
        "method",
        "chain",
        "user",
        "ip",
        "user_agent",
        "detail",
    )
    show_full_result_count = False  # COUNT(*) over a large table on every page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
