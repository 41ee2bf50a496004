"""Admin for wallets: searchable list, read-only rows, and unlinking through the
same guard as the API (a user always keeps a way to sign in).

Wallets are proven by signatures, so the admin never adds or edits one; it
only unlinks (the "Unlink" action, or the delete page, both guarded).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.admin_secrets import SecretSafeAdminMixin
from accounts.errors import ApiError
from accounts.models import User
from wallets.flows.wallets import wallet_removable, wallet_remove
from wallets.models import Wallet

WALLET_FIELDS = ("namespace", "chain", "address", "created_at", "last_used_at")
LAST_METHOD = "is the only way left to sign in to its account"


class WalletInline(admin.TabularInline):
    """The user's wallets on the user page, read-only; unlink from the wallet list."""

    model = Wallet
    fields = WALLET_FIELDS
    readonly_fields = WALLET_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("created_at",)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


UserAdmin.inlines = [*UserAdmin.inlines, WalletInline]


class LinkedUserFilter(admin.SimpleListFilter):
    """`?user=<id>`: one user's wallets (the list's user links lead here)."""

    title = "linked user"
    parameter_name = "user"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        value = self.value()
        user = User.objects.filter(pk=value).first() if value and value.isdigit() else None
        return [(str(user.pk), str(user))] if user else []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(user_id=value)
        return queryset


@admin.register(Wallet)
class WalletAdmin(SecretSafeAdminMixin, admin.ModelAdmin):
    list_display = ("address", "namespace", "chain", "linked_user", "created_at", "last_used_at")
    list_filter = ("namespace", LinkedUserFilter, "created_at", "last_used_at")
    search_fields = ("address", "user__email")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    fields = ("user", *WALLET_FIELDS)
    readonly_fields = fields
    actions = ["unlink"]

    @admin.display(description="user", ordering="user__email")
    def linked_user(self, obj: Wallet) -> str:
        return format_html('<a href="?user={}">{}</a>', obj.user_id, obj.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # unguarded: "unlink" replaces it
        return actions

    @admin.action(description="Unlink selected wallets", permissions=["delete"])
    def unlink(self, request: HttpRequest, queryset: QuerySet) -> None:
        done, refused = 0, []
        for wallet in queryset.order_by("pk"):
            try:
                wallet_remove(request, wallet=wallet)
                done += 1
            except ApiError:
                refused.append(wallet.address)
        if done:
            self.message_user(request, f"Unlinked {done} wallet(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request, f"Not unlinked: {', '.join(refused)}: each {LAST_METHOD}.", messages.ERROR
            )

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        wallet = self.get_object(request, object_id)
        if wallet is not None and not wallet_removable(wallet):
            self.message_user(request, f"{wallet.address} {LAST_METHOD}.", messages.ERROR)
            url = reverse("admin:wallets_wallet_change", args=[wallet.pk])
            return HttpResponseRedirect(url)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request: HttpRequest, obj: Wallet) -> None:
        wallet_remove(request, wallet=obj)  # checked again under the user's lock
