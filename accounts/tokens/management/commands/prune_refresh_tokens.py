"""`manage.py prune_refresh_tokens`: delete refresh tokens past their expiry.

An expired refresh token refreshes nothing and, presented, answers as an
unknown one does (accounts.tokens.flows.token_refresh), so its row only
takes space: one per sign-in and per refresh under the JWT strategy.
Rows not yet expired stay, used and revoked ones included: a used token
presented again is how a stolen copy is detected (its family revoked).
Run it daily, like clearsessions.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.management import batches
from accounts.tokens.models import RefreshToken


class Command(BaseCommand):
    help = "Delete refresh tokens past their expiry (they can no longer refresh)."

    def handle(self, *args, **options) -> None:
        expired = RefreshToken.objects.filter(expires_at__lte=timezone.now())
        deleted = batches.delete_in_batches(expired)
        self.stdout.write(f"Deleted {deleted} expired refresh tokens.")
