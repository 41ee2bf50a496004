"""Forged access tokens, crafted as an attacker would with PyJWT: each is
refused (401 on the headless API and on a project DRF view)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http import HTTPStatus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from accounts.tokens import keys
from tests.accounts.tokens.conftest import bearer
from tests.conftest import HeadlessClient


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def claims(signed_in) -> dict:
    """The genuine token's claims: the attacker starts from a real one."""
    return jwt.decode(signed_in["access_token"], options={"verify_signature": False})


def _ours(claims: dict, **changes) -> str:
    key = keys.current_key()
    payload = {**claims, **changes}
    return jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.kid})


def _refused(token: str) -> None:
    response = HeadlessClient("app").get("/auth/session", headers=bearer(token))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["meta"]["is_authenticated"] is False
    drf = Client().get("/api/me", headers=bearer(token))
    assert drf.status_code == HTTPStatus.UNAUTHORIZED
    assert drf.json()["errors"][0]["code"] == "not_authenticated"


pytestmark = pytest.mark.urls("tests.accounts.tokens.test_tokens")


def test_genuine_token_is_accepted(signed_in):
    # The control: the harness accepts a real token, so each refusal below is the attack's.
    response = HeadlessClient("app").get("/auth/session", headers=bearer(signed_in["access_token"]))
    assert response.status_code == HTTPStatus.OK
    assert Client().get("/api/me", headers=bearer(signed_in["access_token"])).status_code == 200


def test_alg_none(claims):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": keys.current_key().kid}).encode())
    payload = _b64(json.dumps({**claims, "sub": "1"}).encode())
    _refused(f"{header}.{payload}.AA")  # JWT-shaped; an empty signature is not even that
    _refused(jwt.encode(claims, None, algorithm="none") + "AA")


def test_hs256_signed_with_the_public_key(claims):
    # The classic confusion: the public key (from the JWKS) used as an HMAC secret.
    public_pem = (
        keys.current_key()
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.current_key().kid}
    header_b64 = _b64(json.dumps(header).encode())
    payload_b64 = _b64(json.dumps(claims).encode())
    signing_input = f"{header_b64}.{payload_b64}".encode()
    signature = _b64(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    _refused(f"{header_b64}.{payload_b64}.{signature}")


def test_signed_by_another_key(claims):
    attacker = ec.generate_private_key(ec.SECP256R1())
    _refused(
        jwt.encode(claims, attacker, algorithm="ES256", headers={"kid": keys.current_key().kid})
    )


def test_expired(claims):
    now = int(time.time())
    _refused(_ours(claims, iat=now - 600, nbf=now - 600, exp=now - 1))


def test_not_yet_valid(claims):
    now = int(time.time())
    _refused(_ours(claims, iat=now + 600, nbf=now + 600, exp=now + 900))


def test_wrong_audience(claims):
    _refused(_ours(claims, aud="another-service"))


def test_wrong_issuer(claims):
    _refused(_ours(claims, iss="https://evil.example"))


def test_missing_exp(claims):
    payload = dict(claims)
    del payload["exp"]
    key = keys.current_key()
    _refused(jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.kid}))


def test_tampered_payload(signed_in, claims):
    header, _, signature = signed_in["access_token"].split(".")
    payload = _b64(json.dumps({**claims, "sub": str(int(claims["sub"]) + 1)}).encode())
    _refused(f"{header}.{payload}.{signature}")


def test_refresh_token_is_not_an_access_token(signed_in):
    response = HeadlessClient("app").get(
        "/auth/session", headers=bearer(signed_in["refresh_token"])
    )
    # Not JWT-shaped: looked up as a session token, which it is not.
    assert response.status_code == HTTPStatus.GONE
