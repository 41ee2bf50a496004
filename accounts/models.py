"""Users, their email addresses and their sessions.

Invariants the database enforces (not only the code):
- a user's email is unique case-insensitively (functional index on Lower(email));
- a user has at most one primary address;
- an address has at most one verified owner;
- a user lists an address at most once.

An unverified address is a claim (accounts.emails): several users may hold
claims of one address; `User.email` is only ever a verified primary address.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.email_spelling import InvalidEmail, normalize_email
from accounts.userversions import AUTH_FIELDS, UNCACHED_FIELDS, UserDataQuerySet


class UserQuerySet(UserDataQuerySet):
    """update() and the bulk writes keep the user cache current (accounts.userversions)."""

    owner = "pk"
    strict_fields = AUTH_FIELDS
    uncached_fields = UNCACHED_FIELDS


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """accounts.email_spelling's spelling where it applies; Django's otherwise, so
        callers outside the API (the admin's forms) keep their own errors."""

        try:
            return normalize_email(email or "")
        except InvalidEmail:
            return super().normalize_email(email)

    def _create(self, email: str | None, password: str | None, **extra) -> User:
        user = self.model(email=self.normalize_email(email) if email else None, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str | None = None, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        user = self._create(email, password, **extra)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # LOWER(email) = LOWER(%s) can use the user_email_ci_unique index;
        # email__iexact compiles to UPPER(...) = UPPER(...), a scan per sign-in.
        return self.alias(email_ci=Lower("email")).get(email_ci=Lower(Value(username)))


class User(AbstractBaseUser, PermissionsMixin):
    """Email-first user. `email` mirrors the primary EmailAddress once it is
    verified, and is null until then (a pending signup, a wallet-only user)."""

    email = models.EmailField("email address", unique=True, null=True, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    # Never filterable, orderable or searchable in an admin (accounts.admin_secrets).
    SECRET_FIELDS = ("password",)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email or f"user {self.pk}"

    @property
    def display(self) -> str:
        return self.email or f"user {self.pk}"


class EmailAddress(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="emailaddresses")
    email = models.EmailField(max_length=254)
    verified = models.BooleanField(default=False)
    primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = UserDataQuerySet.as_manager()

    class Meta:
        verbose_name = "email address"
        verbose_name_plural = "email addresses"
        constraints = [
            models.UniqueConstraint(
                "user", Lower("email"), name="emailaddress_user_email_ci_unique"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(primary=True), name="emailaddress_one_primary"
            ),
            models.UniqueConstraint(
                Lower("email"), condition=Q(verified=True), name="emailaddress_one_verified_owner"
            ),
        ]
        indexes = [models.Index(Lower("email"), name="emailaddress_email_ci")]

    def __str__(self) -> str:
        return self.email


class UserSession(AbstractBaseSession):
    """Django's session row plus what the session list shows.

    The extra columns are copied from the session data on every save (see
    accounts.sessions), so they need no write of their own; `last_seen_at` is
    refreshed at most every few minutes, never on every request.

    The key is a live credential (the app client's token), so it is not the
    primary key: a row's identity travels in admin URLs, forms and ordering
    tie-breaks, the key must not. `SECRET_FIELDS` are never filterable,
    orderable, searchable or shown in any admin (accounts.admin_secrets).
    """

    SECRET_FIELDS = ("session_key", "session_data")

    id = models.BigAutoField(primary_key=True)
    session_key = models.CharField("session key", max_length=40, unique=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions"
    )
    # What the API and the admin name a session by (never the key); null for
    # nobody's session. See accounts.sessions.public_id.
    public_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # What the session was signed in with ("email:<address>" or
    # "wallet:<namespace>:<address>", accounts.flows.signin), so that
    # removing the address or unlinking the wallet ends it.
    origin = models.CharField(max_length=320, blank=True)

    class Meta:
        verbose_name = "session"
        verbose_name_plural = "sessions"

    @classmethod
    def get_session_store_class(cls):
        # The engine the settings name (accounts.sessions), which imports this module.
        return import_module(settings.SESSION_ENGINE).SessionStore

    def __str__(self) -> str:
        return f"session {self.public_id or '-'}"


class AuthEvent(models.Model):
    """The audit trail: one row per authentication event (accounts.audit).

    Append-only from the application's point of view; `prune_auth_events`
    removes old rows. `detail` never holds a secret (see accounts.signals).
    The user link survives as NULL when the user is deleted, so the trail of
    failed attempts and session ends is kept.
    """

    # No index of its own: authevent_user_created starts with user_id.
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="auth_events",
        db_index=False,
    )
    kind = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16)
    method = models.CharField(max_length=32, blank=True)
    chain = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "auth event"
        verbose_name_plural = "auth events"
        indexes = [
            models.Index(fields=["kind", "created_at"], name="authevent_kind_created"),
            models.Index(fields=["user", "created_at"], name="authevent_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome} at {self.created_at:%Y-%m-%d %H:%M:%S}"
