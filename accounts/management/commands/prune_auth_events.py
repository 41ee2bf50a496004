"""`manage.py prune_auth_events [--days N]`: delete audit rows older than N days.

Deletes in batches, so a large backlog never holds one long lock on the
table that every sign-in writes to. Run it daily (cron, a scheduled job).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.management import batches
from accounts.models import AuthEvent


class Command(BaseCommand):
    help = "Delete auth events (the audit trail) older than --days days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.AUTH_EVENT_RETENTION_DAYS,
            help="Keep this many days of events (default: AUTH_EVENT_RETENTION_DAYS, 90).",
        )

    def handle(self, *args, days: int, **options) -> None:
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        deleted = batches.delete_in_batches(AuthEvent.objects.filter(created_at__lt=cutoff))
        self.stdout.write(f"Deleted {deleted} auth events older than {days} days.")
