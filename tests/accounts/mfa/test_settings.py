"""MFA_ENCRYPTION_KEY: required in production, checked at start-up."""

from __future__ import annotations

import pytest

from tests.test_deploy_check import production_env, run


def test_production_refuses_to_start_without_a_key():
    env = production_env()
    assert env["MFA_ENCRYPTION_KEY"]  # the deploy check's environment provides one
    result = run(["manage.py", "check"], MFA_ENCRYPTION_KEY="")
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEY" in result.stderr


@pytest.mark.parametrize("key", ["not-a-fernet-key", "c2hvcnQ="])
def test_a_malformed_key_stops_start_up(key):
    result = run(["manage.py", "check"], MFA_ENCRYPTION_KEY=key)
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEY" in result.stderr and "32 url-safe" in result.stderr
