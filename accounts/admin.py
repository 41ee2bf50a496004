"""Admin for email-first users, their addresses and their sessions.

Two rules shape it:
- A session key is a live credential (the app client's token): it is never
  rendered, filtered, ordered or searched (accounts.admin_secrets, which every
  admin here mixes in). Session rows are read-only, named by their surrogate
  id, and ended through the session store so the Redis read cache forgets
  them too.
- `User.email` mirrors the user's primary EmailAddress: it is set on the add
  page, then follows the primary address chosen in the inline.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.admin_login import RateLimitedAdminLoginForm
from accounts.admin_secrets import SecretSafeAdminMixin
from accounts.flows.email_verification import make_owner
from accounts.flows.signin import end_sessions
from accounts.flows.signup import email_in_use
from accounts.models import EmailAddress, User, UserSession

VERIFIED_ELSEWHERE = "Another user has already verified this address."
admin.site.login_form = RateLimitedAdminLoginForm  # the API's login rate limits


class EmailAddressForm(forms.ModelForm):
    class Meta:
        model = EmailAddress
        fields = ("email", "primary", "verified")

    def clean(self) -> dict:
        cleaned = super().clean()
        email = cleaned.get("email")
        if cleaned.get("verified") and email:
            others = EmailAddress.objects.filter(email__iexact=email, verified=True)
            if others.exclude(pk=self.instance.pk).exists():
                self.add_error("verified", VERIFIED_ELSEWHERE)
        return cleaned

    def _get_validation_exclusions(self) -> set[str]:
        # "One primary per user" is checked by the formset across its rows; the
        # database check would compare against rows this same save will change.
        return {*super()._get_validation_exclusions(), "primary"}


def own_if_verified(form: forms.ModelForm) -> None:
    """After an address form saved: ticking "verified" makes the owner, as a
    verification link does (other accounts' claims and their sessions go)."""
    address = form.instance
    if "verified" in form.changed_data and address.verified and address.pk:
        make_owner(address)


class EmailAddressFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)
        ]
        primaries = [form for form in kept if form.cleaned_data.get("primary")]
        if kept and len(primaries) != 1:
            raise forms.ValidationError("Exactly one address must be primary.")

    def save(self, commit: bool = True) -> list:
        # Clear the old primary first: the one-primary constraint is not deferrable.
        chosen = [
            form.instance.pk
            for form in self.forms
            if form.cleaned_data.get("primary") and not self._should_delete_form(form)
        ]
        if commit and self.instance.pk:
            stale = EmailAddress.objects.filter(user=self.instance, primary=True)
            stale.exclude(pk__in=[pk for pk in chosen if pk]).update(primary=False)
        return super().save(commit)


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    form = EmailAddressForm
    formset = EmailAddressFormSet
    fields = ("email", "primary", "verified", "created_at")
    readonly_fields = ("created_at",)
    ordering = ("-primary", "email")
    extra = 0


class UserSessionInline(admin.TabularInline):
    """Live sessions, read-only. Ending one is an action of the session admin."""

    model = UserSession
    fields = ("public_id", "ip", "user_agent", "created_at", "last_seen_at", "expire_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(expire_date__gt=timezone.now())

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str | None:
        email = self.cleaned_data.get("email")
        if not email:
            return None  # a wallet-only user
        email = User.objects.normalize_email(email)
        if email_in_use(email):  # the same rule as signup: any user's address
            raise forms.ValidationError("A user with this email address already exists.")
        return email


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class HasUsablePasswordFilter(admin.SimpleListFilter):
    title = "has usable password"
    parameter_name = "usable_password"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        unusable = {"password__startswith": UNUSABLE_PASSWORD_PREFIX}
        if self.value() == "yes":
            return queryset.exclude(**unusable)
        if self.value() == "no":
            return queryset.filter(**unusable)
        return queryset


@admin.register(User)
class UserAdmin(SecretSafeAdminMixin, BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    masked_secret_fields = ("password",)  # Django's read-only hash summary, masked
    # A plain list: other apps extend it at import time (wallets adds its inline).
    inlines = [EmailAddressInline, UserSessionInline]
    list_display = ("email", "is_active", "is_staff", "is_superuser", "date_joined", "last_login")
    list_filter = (
        "is_staff",
        "is_superuser",
        "is_active",
        HasUsablePasswordFilter,
        "date_joined",
        "groups",
    )
    search_fields = ("email", "emailaddresses__email")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
                "description": "Leave the email empty for a wallet-only user.",
            },
        ),
    )
    actions = ["end_all_sessions"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        # Once created, the email follows the primary address in the inline.
        extra = ("email",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *extra)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            if isinstance(formset, EmailAddressFormSet):
                for address_form in formset.forms:
                    if address_form.has_changed() and not formset._should_delete_form(address_form):
                        own_if_verified(address_form)
        user = form.instance
        addresses = user.emailaddresses.all()
        if not change and user.email and not addresses.filter(email__iexact=user.email).exists():
            has_primary = addresses.filter(primary=True).exists()
            EmailAddress.objects.create(user=user, email=user.email, primary=not has_primary)
        primary = addresses.filter(primary=True).first()
        if primary is not None and primary.email != user.email:
            user.email = primary.email
            user.save(update_fields=["email"])

    @admin.action(description="End all sessions of the selected users", permissions=["change"])
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        sessions = UserSession.objects.filter(user__in=queryset)
        keys = list(sessions.values_list("session_key", flat=True))
        end_sessions(keys)
        self.message_user(request, f"Ended {len(keys)} session(s).", messages.SUCCESS)


@admin.register(EmailAddress)
class EmailAddressAdmin(SecretSafeAdminMixin, admin.ModelAdmin):
    form = EmailAddressForm
    list_display = ("email", "user", "primary", "verified", "created_at")
    list_filter = ("verified", "primary")
    search_fields = ("email", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    # Primary changes go through the user page, which keeps User.email in step.
    readonly_fields = ("primary", "created_at")
    actions = ["mark_verified"]

    def get_fields(self, request: HttpRequest, obj=None) -> tuple:
        return ("user", "email", "primary", "verified", "created_at")

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        own_if_verified(form)

    @admin.action(description="Mark verified", permissions=["change"])
    def mark_verified(self, request: HttpRequest, queryset: QuerySet) -> None:
        done, refused = 0, []
        for address in queryset.filter(verified=False).order_by("pk"):
            try:
                with transaction.atomic():  # one savepoint each: a refusal keeps the rest
                    make_owner(address)  # as a verification link does: claims elsewhere go
                done += 1
            except IntegrityError:
                refused.append(address.email)
        if done:
            self.message_user(request, f"Marked {done} address(es) verified.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"Not marked: {', '.join(refused)}. {VERIFIED_ELSEWHERE} "
                "An address can have only one verified owner.",
                messages.ERROR,
            )


class ActiveSessionFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(expire_date__gt=now)
        if self.value() == "expired":
            return queryset.filter(expire_date__lte=now)
        return queryset


@admin.register(UserSession)
class UserSessionAdmin(SecretSafeAdminMixin, admin.ModelAdmin):
    """Signed-in sessions; the key (and the data, which holds the password's
    session hash) never reach a page, a filter or an ordering."""

    list_display = (
        "user",
        "public_id",
        "ip",
        "short_user_agent",
        "created_at",
        "last_seen_at",
        "expire_date",
    )
    list_display_links = None  # the line shows all there is; its page repeats it
    fields = ("user", "public_id", "ip", "user_agent", "created_at", "last_seen_at", "expire_date")
    list_filter = (ActiveSessionFilter, "created_at")
    search_fields = ("user__email", "ip")
    list_select_related = ("user",)
    ordering = ("-created_at",)
    actions = ["end_selected_sessions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Sessions of nobody (e.g. a signup awaiting verification) have no public id.
        return super().get_queryset(request).filter(user__isnull=False, public_id__isnull=False)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Its confirmation page lists the keys, and it would skip the Redis cache.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="user agent")
    def short_user_agent(self, obj: UserSession) -> str:
        agent = obj.user_agent or ""
        return agent if len(agent) <= 60 else agent[:59] + "…"

    @admin.action(description="End selected sessions", permissions=["delete"])
    def end_selected_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        keys = list(queryset.values_list("session_key", flat=True))
        end_sessions(keys)
        self.message_user(request, f"Ended {len(keys)} session(s).", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: UserSession) -> None:
        end_sessions([obj.session_key])  # through the store: the cache forgets it too

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        end_sessions(list(queryset.values_list("session_key", flat=True)))
