"""Data migrations, run forward over rows written before them."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0004_session_origin")]
AFTER = [("accounts", "0005_user_email_verified_only")]


def test_user_email_holding_a_claim_is_cleared(db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User, EmailAddress = (
        apps.get_model("accounts", "User"),
        apps.get_model("accounts", "EmailAddress"),
    )
    claimer = User.objects.create(email="victim@example.org", password="!")
    EmailAddress.objects.create(user=claimer, email="victim@example.org", primary=True)
    owner = User.objects.create(email="Owner@example.org", password="!")
    EmailAddress.objects.create(user=owner, email="owner@example.org", primary=True, verified=True)
    wallet_only = User.objects.create(email=None, password="!")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    emails = dict(User.objects.values_list("pk", "email"))
    assert emails == {claimer.pk: None, owner.pk: "Owner@example.org", wallet_only.pk: None}
    assert EmailAddress.objects.count() == 2  # the claim stays a claim
