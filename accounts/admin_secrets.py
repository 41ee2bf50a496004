"""No secret is filterable, orderable, searchable or shown in any admin.

The attack this closes: a staff user allowed only to *view* sessions read a
superuser's session key off `/admin/accounts/usersession/` one character at
a time, with `?session_key__startswith=<prefix>` (or `pk__startswith`,
`__regex`, `__gt`) and the result count. Django's admin takes any lookup on a
model's own fields from the query string (`ModelAdmin.lookup_allowed` only
restricts paths across relations), so the rule has to be enforced here.

Secrets are declared on their models (`SECRET_FIELDS`); Django's own are
known by their base classes (every user's password, every session's key and
data). Then:

- `SecretSafeAdminMixin` refuses (400, Django's DisallowedModelAdminLookup)
  every query-string lookup whose path reaches a secret, directly or through
  relations (`user__password__startswith`, `sessions__session_key__regex`),
  and every `_to_field` that names one;
- the `signet.A001` check refuses an admin that lists a secret among its
  columns, filters, search fields, orderings or form fields (Django's masked
  password widget excepted, see `masked_secret_fields`), and one registered
  for a model with secrets without the mixin.

A new model with a secret column (a TOTP seed, a recovery code hash) only
has to name it in `SECRET_FIELDS`: the check then insists on the rest.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.admin import helpers
from django.contrib.admin.options import BaseModelAdmin, InlineModelAdmin
from django.contrib.admin.sites import all_sites
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Model
from django.db.models.constants import LOOKUP_SEP

CHECK_ID = "signet.A001"


def secret_fields(model: type[Model]) -> frozenset[str]:
    names = set(getattr(model, "SECRET_FIELDS", ()))
    if issubclass(model, AbstractBaseUser):
        names.add("password")
    if issubclass(model, AbstractBaseSession):
        names.update(("session_key", "session_data"))
    return frozenset(names)


def reaches_secret(model: type[Model], path: str) -> bool:
    """Does the lookup path (`user__password__startswith`, `pk__gt`) read a secret?

    Walks the path field by field across relations, forward and reverse; the
    first part that is not a field ends it (a lookup or transform of the
    previous one). A foreign key compares its target's values, so one whose
    target is a secret reaches it too.
    """
    for part in path.split(LOOKUP_SEP):
        opts = model._meta
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return False
        if field.name in secret_fields(model):
            return True
        target = getattr(field, "target_field", None) if field.concrete else None
        if target is not None and target.name in secret_fields(target.model):
            return True
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


class SecretSafeAdminMixin:
    """For every ModelAdmin: refuses query-string lookups and `_to_field`
    through a secret. List it before the ModelAdmin base class."""

    # Fields the admin may render although secret, because Django masks them
    # (the user form's read-only password hash summary).
    masked_secret_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup: str, value, request=None) -> bool:
        if reaches_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def to_field_allowed(self, request, to_field: str) -> bool:
        if reaches_secret(self.model, to_field):
            return False
        return super().to_field_allowed(request, to_field)

    def response_action(self, request, queryset):
        # A posted selection that is no primary key of this model selects
        # nothing (Django would answer 500 on `pk__in=["abc"]`).
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if selected:
            pk = self.model._meta.pk
            valid = []
            for value in selected:
                try:
                    pk.to_python(value)
                except ValidationError:
                    continue
                valid.append(value)
            post = request.POST.copy()
            post.setlist(helpers.ACTION_CHECKBOX_NAME, valid)
            request.POST = post
        return super().response_action(request, queryset)


def _option_paths(model_admin: BaseModelAdmin) -> Iterator[tuple[str, str]]:
    """(option, path) for every field path an admin lets users filter, order,
    search or see."""
    for name in getattr(model_admin, "list_display", ()):
        if isinstance(name, str):
            yield "list_display", name
            order = getattr(getattr(model_admin, name, None), "admin_order_field", None)
            if isinstance(order, str):
                yield "list_display", order.lstrip("-")
    for item in getattr(model_admin, "list_filter", ()):
        if isinstance(item, str | tuple | list):
            yield "list_filter", item if isinstance(item, str) else item[0]
    for name in getattr(model_admin, "search_fields", ()):
        yield "search_fields", name.lstrip("^=@")
    for name in model_admin.ordering or ():
        if isinstance(name, str):
            yield "ordering", name.lstrip("-")
    for name in model_admin.sortable_by or ():
        yield "sortable_by", name
    if getattr(model_admin, "date_hierarchy", None):
        yield "date_hierarchy", model_admin.date_hierarchy
    for name in model_admin.readonly_fields:
        if isinstance(name, str):
            yield "readonly_fields", name
    yield from (("fields", name) for name in _form_fields(model_admin))


def _form_fields(model_admin: BaseModelAdmin) -> list[str]:
    if model_admin.fieldsets:
        return flatten_fieldsets(model_admin.fieldsets)
    if model_admin.fields:
        return flatten_fieldsets([(None, {"fields": model_admin.fields})])
    exclude = set(model_admin.exclude or ())
    opts = model_admin.model._meta
    return [f.name for f in opts.fields if f.editable and f.name not in exclude]


def _has_secret_to_guard(model: type[Model]) -> bool:
    names = ["pk", *(f.name for f in model._meta.get_fields())]
    return any(reaches_secret(model, name) for name in names)


def _admins() -> Iterator[tuple[str, BaseModelAdmin]]:
    for site in all_sites:
        for model, model_admin in site._registry.items():
            yield f"{type(model_admin).__name__} ({model._meta.label})", model_admin
            for inline in model_admin.inlines:
                inline_admin = inline(model, site)
                label = f"{inline.__name__} ({inline_admin.model._meta.label})"
                yield label, inline_admin


def check_admins(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for label, model_admin in _admins():
        model = model_admin.model
        is_inline = isinstance(model_admin, InlineModelAdmin)
        if (
            not is_inline
            and _has_secret_to_guard(model)
            and not isinstance(model_admin, SecretSafeAdminMixin)
        ):
            errors.append(
                checks.Error(
                    f"{label} holds or points at a secret field but does not use "
                    "accounts.admin_secrets.SecretSafeAdminMixin.",
                    id=CHECK_ID,
                )
            )
        masked = set(getattr(model_admin, "masked_secret_fields", ()))
        for option, path in _option_paths(model_admin):
            if option == "fields" and path in masked:
                continue
            if reaches_secret(model, path):
                errors.append(
                    checks.Error(f"{label}.{option} names {path!r}, a secret field.", id=CHECK_ID)
                )
    return errors


checks.register(check_admins, checks.Tags.admin)
