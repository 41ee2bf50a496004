"""The ES256 signing keys: the first signs, every one verifies (rotation).

`JWT_PRIVATE_KEYS` holds PEM private keys (P-256). A new key goes first and
the old one stays listed for one access-token lifetime, so tokens it signed
keep verifying while new ones carry the new `kid`; then the old one is dropped.
The `kid` is the key's RFC 7638 thumbprint: stable, and derived, not chosen.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict


def _thumbprint(jwk: dict) -> str:
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _load(pem: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        message = "JWT_PRIVATE_KEYS holds a key that is not a PEM private key."
        raise ImproperlyConfigured(message) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ImproperlyConfigured("JWT_PRIVATE_KEYS: ES256 needs P-256 (prime256v1) EC keys.")
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    kid = _thumbprint(jwk)
    return SigningKey(kid, key, {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})


@cache
def signing_keys() -> tuple[SigningKey, ...]:
    keys = tuple(_load(pem) for pem in settings.JWT_PRIVATE_KEYS)
    if not keys:
        raise ImproperlyConfigured("SIGNET_TOKEN_STRATEGY=jwt needs JWT_PRIVATE_KEYS (or _FILE).")
    return keys


def current_key() -> SigningKey:
    return signing_keys()[0]


@cache
def verification_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    return {k.kid: k.private_key.public_key() for k in signing_keys()}


def jwks() -> dict:
    return {"keys": [k.public_jwk for k in signing_keys()]}


def _reset(setting: str, **kwargs) -> None:
    if setting == "JWT_PRIVATE_KEYS":
        signing_keys.cache_clear()
        verification_keys.cache_clear()


setting_changed.connect(_reset)
