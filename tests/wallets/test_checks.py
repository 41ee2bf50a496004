"""Wallet settings are checked at start-up (`manage.py check`)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from wallets.checks import wallet_settings


def _ids() -> list[str]:
    return [message.id for message in wallet_settings()]


def test_the_test_settings_pass():
    assert _ids() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"WALLET_CHAINS": ["bitcoin:mainnet"]}, ["wallets.E001"]),
        ({"WALLET_CHAINS": ["eip155:0x1"]}, ["wallets.E001"]),
        ({"WALLET_DOMAINS": []}, ["wallets.E002"]),
        ({"WALLET_STATEMENT": "Two\nlines"}, ["wallets.E003"]),
        ({"WALLET_STATEMENT": 'Say "yes"'}, ["wallets.E003"]),
        ({"WALLET_CHALLENGE_TTL": 0}, ["wallets.E004"]),
        ({"WALLET_CHAINS": [], "WALLET_DOMAINS": []}, []),
        ({"WALLET_STATEMENT": ""}, []),
    ],
)
def test_bad_settings_are_reported(overrides, expected):
    with override_settings(**overrides):
        assert _ids() == expected
