"""Refresh tokens: only their SHA-256 is stored, one row per issued token.

A family is every token descended by rotation from one sign-in. Each token
is good for one refresh; presenting a used one means two parties hold it
(one of them a thief), so the whole family is revoked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RefreshToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # The session's public id (`sid`): it survives the session key's rotation.
    session_public_id = models.BigIntegerField()
    family = models.UUIDField(db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # How the session signed in, carried into every access token of the family.
    amr = models.JSONField(default=list)
    chain = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "session_public_id"], name="refreshtoken_user_session"),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} (session {self.session_public_id})"
