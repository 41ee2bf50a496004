"""A user's second factors.

`data` holds what each type needs, secrets encrypted (accounts.mfa.crypto):
- totp: `{"secret": <Fernet token of the base32 secret>}`;
- recovery_codes: `{"key": <Fernet token of the HMAC key>, "hashes": [hex],
  "used": [index], "pending": <Fernet token of the codes, until first shown>}`;
- webauthn: `{"name", "credential": <attested credential data, base64url>,
  "credential_id": <base64url>, "passwordless": bool?}` (accounts.mfa.webauthn).

`counter` is the last TOTP time step accepted (for WebAuthn: the last
signature counter). It only moves forward, by a
conditional UPDATE (accounts.mfa.totp), so a code is accepted once: two
requests racing with the same code cannot both win.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Authenticator(models.Model):
    class Type(models.TextChoices):
        # allauth's order: the `types` of a flow list them so.
        RECOVERY_CODES = "recovery_codes", "Recovery codes"
        TOTP = "totp", "TOTP authenticator"
        WEBAUTHN = "webauthn", "WebAuthn"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="authenticators"
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    data = models.JSONField(default=dict)
    counter = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    # Never filterable, orderable, searchable or shown in any admin
    # (accounts.admin_secrets): the encrypted TOTP secret, the recovery codes'
    # key and hashes, the last used time step; WebAuthn public keys are no
    # secret, but are no one's business either.
    SECRET_FIELDS = ("data", "counter")

    class Meta:
        verbose_name = "authenticator"
        verbose_name_plural = "authenticators"
        constraints = [
            # One TOTP and one set of recovery codes per user (WebAuthn may have many).
            models.UniqueConstraint(
                fields=["user", "type"],
                condition=Q(type__in=["totp", "recovery_codes"]),
                name="mfa_authenticator_one_per_type",
            )
        ]

    def __str__(self) -> str:
        return self.get_type_display()
