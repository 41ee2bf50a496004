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


def test_resource_server_example_verifies_through_jwks(live_server, settings, user):
    import json
    import threading
    import urllib.error
    import urllib.request

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from examples.resource_server import Verifier, make_server
    from tests.conftest import PASSWORD

    settings.SIGNET_TOKEN_STRATEGY = "jwt"
    login = urllib.request.Request(  # noqa: S310 (the live test server)
        f"{live_server.url}/_allauth/app/v1/auth/login",
        data=json.dumps({"email": user.email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login) as response:  # noqa: S310
        access = json.load(response)["meta"]["access_token"]

    server = make_server(Verifier(live_server.url), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    def get(token: str) -> tuple[int, dict]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request) as response:  # noqa: S310
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    try:
        assert get(access) == (200, {"user": str(user.pk)})
        claims = jwt.decode(access, options={"verify_signature": False})
        kid = jwt.get_unverified_header(access)["kid"]
        forged = jwt.encode(
            claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid}
        )
        assert get(forged) == (401, {"error": "invalid_token"})
    finally:
        server.shutdown()
        server.server_close()
