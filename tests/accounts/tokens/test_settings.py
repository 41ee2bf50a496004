"""JWT_PRIVATE_KEYS: required in production under the jwt strategy, checked
at start-up; several keys verify, the first signs (rotation)."""

from __future__ import annotations

from http import HTTPStatus

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from accounts.tokens import keys
from tests.accounts.tokens.conftest import bearer
from tests.conftest import PASSWORD, HeadlessClient
from tests.test_deploy_check import run


def _pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_production_jwt_needs_a_key():
    result = run(["manage.py", "check"], SIGNET_TOKEN_STRATEGY="jwt", JWT_PRIVATE_KEYS="")
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEYS" in result.stderr


def test_production_jwt_refuses_a_malformed_key():
    result = run(["manage.py", "check"], SIGNET_TOKEN_STRATEGY="jwt", JWT_PRIVATE_KEYS="junk")
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEYS" in result.stderr


def test_production_jwt_starts_with_a_key_file(tmp_path):
    path = tmp_path / "jwt.pem"
    path.write_text(_pem() + _pem())
    result = run(
        ["manage.py", "check"], SIGNET_TOKEN_STRATEGY="jwt", JWT_PRIVATE_KEYS_FILE=str(path)
    )
    assert result.returncode == 0, result.stderr


def test_production_session_strategy_needs_no_key():
    assert run(["manage.py", "check"], JWT_PRIVATE_KEYS="").returncode == 0


def test_rotation_keeps_old_tokens_valid(app, user, settings):
    old = app.post("/auth/login", {"email": user.email, "password": PASSWORD}).json()["meta"]
    settings.JWT_PRIVATE_KEYS = [_pem(), *settings.JWT_PRIVATE_KEYS]  # the new key goes first
    new = HeadlessClient("app")
    fresh = new.post("/auth/login", {"email": user.email, "password": PASSWORD}).json()["meta"]
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == keys.current_key().kid
    assert jwt.get_unverified_header(old["access_token"])["kid"] != keys.current_key().kid
    for token in (old["access_token"], fresh["access_token"]):
        response = HeadlessClient("app").get("/auth/session", headers=bearer(token))
        assert response.status_code == HTTPStatus.OK
    published = {k["kid"] for k in app.http.get("/.well-known/jwks.json").json()["keys"]}
    assert published == {k.kid for k in keys.signing_keys()} and len(published) == 2
    settings.JWT_PRIVATE_KEYS = settings.JWT_PRIVATE_KEYS[:1]  # the old key dropped
    response = HeadlessClient("app").get("/auth/session", headers=bearer(old["access_token"]))
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_jwks_has_only_public_parts(app, db):
    body = app.http.get("/.well-known/jwks.json").json()
    (key,) = body["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256"
    assert "d" not in key


def test_jwks_refuses_other_methods_in_the_envelope(app, db):
    response = app.http.post("/.well-known/jwks.json")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
