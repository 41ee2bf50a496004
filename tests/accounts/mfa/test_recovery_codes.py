"""Recovery codes over the API: shown while fresh, stored hashed, regenerated."""

from __future__ import annotations

import json
from http import HTTPStatus

from accounts.mfa.models import Authenticator
from accounts.models import AuthEvent

from .helpers import AUTHENTICATE, RECOVERY, activate_totp, age_authentication, login


def test_none_without_a_second_factor(logged_in):
    assert logged_in.get(RECOVERY).status_code == HTTPStatus.NOT_FOUND
    response = logged_in.post(RECOVERY)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["code"] == "cannot_generate_recovery_codes"


def test_shown_once_then_only_counted(logged_in, user):
    activate_totp(logged_in)
    first = logged_in.get(RECOVERY).json()
    data = first["data"]
    assert set(data) == {
        "type",
        "created_at",
        "last_used_at",
        "total_code_count",
        "unused_code_count",
        "unused_codes",
    }
    assert data["type"] == "recovery_codes"
    assert data["total_code_count"] == data["unused_code_count"] == 10
    codes = data["unused_codes"]
    assert len(set(codes)) == 10
    # Stored as keyed hashes only, once shown.
    stored = json.dumps(Authenticator.objects.get(user=user, type="recovery_codes").data)
    assert not any(c in stored for c in codes)
    second = logged_in.get(RECOVERY).json()["data"]
    assert second["unused_codes"] == [] and second["unused_code_count"] == 10


def test_regenerate_voids_the_old_codes(logged_in, user, make_headless):
    activate_totp(logged_in)
    old = logged_in.get(RECOVERY).json()["data"]["unused_codes"]
    response = logged_in.post(RECOVERY)
    assert response.status_code == HTTPStatus.OK
    new = response.json()["data"]["unused_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    # The SPA reads them with a GET right after generating: shown there once more.
    assert logged_in.get(RECOVERY).json()["data"]["unused_codes"] == new
    client = make_headless()
    login(client, user)
    assert client.post(AUTHENTICATE, {"code": old[0]}).status_code == HTTPStatus.BAD_REQUEST
    assert client.post(AUTHENTICATE, {"code": new[0]}).status_code == HTTPStatus.OK
    assert AuthEvent.objects.filter(user=user, kind="mfa_recovery_codes_generated").exists()


def test_viewing_and_regenerating_need_a_recent_authentication(logged_in):
    activate_totp(logged_in)
    age_authentication(logged_in, 301)
    for method in ("get", "post"):
        response = getattr(logged_in, method)(RECOVERY)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert {"id": "reauthenticate"} in response.json()["data"]["flows"]
