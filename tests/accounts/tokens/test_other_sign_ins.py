"""Wallet sign-in and MFA completion hand out tokens as password sign-in does."""

from __future__ import annotations

from http import HTTPStatus

import jwt

from tests.accounts.mfa.helpers import activate_totp, code, login, step_now
from tests.accounts.tokens.conftest import bearer
from tests.conftest import HeadlessClient
from tests.wallets.conftest import EvmWallet
from tests.wallets.helpers import sign_in


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_wallet_sign_in_issues_tokens(app):
    wallet = EvmWallet()
    response = sign_in(app, wallet)
    assert response.status_code == HTTPStatus.OK, response.content
    meta = response.json()["meta"]
    claims = _claims(meta["access_token"])
    assert claims["amr"] == ["wallet"]
    assert claims["chain"] == wallet.chain
    assert meta["refresh_token"]
    session = HeadlessClient("app").get("/auth/session", headers=bearer(meta["access_token"]))
    assert session.status_code == HTTPStatus.OK


def test_mfa_completion_issues_tokens(app, user):
    login(app, user)
    secret = activate_totp(app)
    app.delete("/auth/session")
    client = HeadlessClient("app")
    first = login(client, user)
    assert first.status_code == HTTPStatus.UNAUTHORIZED
    # The first factor alone earns no token.
    assert "access_token" not in first.json().get("meta", {})
    done = client.post("/auth/2fa/authenticate", {"code": code(secret, step_now() + 1)})
    assert done.status_code == HTTPStatus.OK, done.content
    meta = done.json()["meta"]
    assert _claims(meta["access_token"])["amr"] == ["pwd", "mfa"]
    refreshed = client.post("/tokens/refresh", {"refresh_token": meta["refresh_token"]})
    assert _claims(refreshed.json()["data"]["access_token"])["amr"] == ["pwd", "mfa"]
