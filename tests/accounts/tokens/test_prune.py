"""`manage.py prune_refresh_tokens`: expired rows go, live ones (used included) stay."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from accounts.tokens.models import RefreshToken


def test_expired_tokens_are_deleted_and_the_live_family_still_works(signed_in, app, user, capsys):
    first = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()["data"]["refresh_token"]
    expired = RefreshToken.objects.create(
        user=user,
        session_public_id=1,
        family="00000000-0000-0000-0000-000000000001",
        token_hash="0" * 64,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    live = set(RefreshToken.objects.exclude(pk=expired.pk).values_list("pk", flat=True))
    assert len(live) == 2  # the used token of the sign-in and its rotation

    call_command("prune_refresh_tokens")

    assert capsys.readouterr().out.strip() == "Deleted 1 expired refresh tokens."
    assert set(RefreshToken.objects.values_list("pk", flat=True)) == live
    # The used one is still there to catch a stolen copy: replaying it revokes the family.
    assert (
        app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]}).status_code
        == 400
    )
    assert app.post("/tokens/refresh", {"refresh_token": rotated}).status_code == 400


def test_an_expired_token_refreshes_nothing_pruned_or_not(signed_in, app):
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    call_command("prune_refresh_tokens")
    after = app.post("/tokens/refresh", {"refresh_token": signed_in["refresh_token"]})
    assert before.status_code == after.status_code == 400
    assert before.json() == after.json()
    assert not RefreshToken.objects.exists()
