"""The README's runnable wallet client signs in against a live server."""

from __future__ import annotations

import secrets

import pytest

from examples.wallet_signin import sign_in


@pytest.mark.parametrize("chain", ["eip155:1", "solana:mainnet", "cosmos:cosmoshub-4"])
def test_wallet_signin_example(live_server, settings, chain):
    settings.WALLET_DOMAINS = [live_server.url.removeprefix("http://")]
    result = sign_in(live_server.url, chain, secrets.token_bytes(32))
    assert result["status"] == 200, result
    assert result["meta"]["is_authenticated"] is True
    assert result["meta"]["session_token"]
    (wallet,) = result["data"]["user"]["wallets"]
    assert wallet["chain"].startswith(chain.split(":")[0])
