"""The MFA endpoints are in the OpenAPI schema, and answer what it says."""

from __future__ import annotations

import pytest

from accounts.mfa.api import urls
from tests.test_schema import assert_documented, assert_paths_documented

from .helpers import AUTHENTICATE, RECOVERY, TOTP, code, login, step_now


@pytest.mark.parametrize("client", ["app", "browser"])
def test_every_mfa_endpoint_and_method_is_documented(schema, client):
    assert_paths_documented(schema, urls.urlpatterns, client)


def test_answers_match_the_schema(schema, logged_in, user, make_headless):
    kind = logged_in.kind
    setup = logged_in.get(TOTP)
    assert_documented(schema, setup, kind, TOTP.lstrip("/"), "get")
    secret = setup.json()["meta"]["secret"]
    wrong = logged_in.post(TOTP, {"code": code(secret, step_now() + 9)})
    assert_documented(schema, wrong, kind, TOTP.lstrip("/"), "post")
    activated = logged_in.post(TOTP, {"code": code(secret)})
    assert_documented(schema, activated, kind, TOTP.lstrip("/"), "post")
    codes = logged_in.get(RECOVERY)
    assert_documented(schema, codes, kind, RECOVERY.lstrip("/"), "get")
    client = make_headless()
    pending = login(client, user)
    assert pending.status_code == 401
    assert_documented(schema, pending, kind, "auth/login", "post")
    done = client.post(AUTHENTICATE, {"code": code(secret, step_now() + 1)})
    assert_documented(schema, done, kind, AUTHENTICATE.lstrip("/"), "post")
    assert_documented(schema, client.get("/config"), kind, "config", "get")
