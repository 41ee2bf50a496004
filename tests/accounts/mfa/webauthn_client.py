"""A software WebAuthn authenticator and client for the API tests: real P-256
keys and signatures, assembled with fido2's own data classes, as a browser
and a security key would. (The proof with a real browser and CTAP2
authenticator is tests/browser/test_webauthn_browser.py; this one drives the
plain API for both clients fast.)"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
)

ORIGIN = "https://app.example.com"
RP_ID = "app.example.com"
Flag = AuthenticatorData.FLAG


class SoftKey:
    def __init__(self, *, rp_id: str = RP_ID, origin: str = ORIGIN, counts: bool = True) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.rp_id, self.origin = rp_id, origin
        self.counter = 0
        self.counts = counts
        self.user_handle = b""

    def _next_count(self) -> int:
        if self.counts:
            self.counter += 1
        return self.counter

    def create(self, options: dict, *, flags: int = Flag.UP | Flag.UV) -> dict:
        public_key = options["publicKey"]
        self.user_handle = websafe_decode(public_key["user"]["id"])
        client_data = CollectedClientData.create(
            type="webauthn.create",
            challenge=websafe_decode(public_key["challenge"]),
            origin=self.origin,
        )
        cose = ES256.from_cryptography_key(self.private.public_key())
        attested = AttestedCredentialData.create(b"\0" * 16, self.credential_id, cose)
        auth_data = AuthenticatorData.create(
            hashlib.sha256(self.rp_id.encode()).digest(),
            Flag(flags | Flag.AT),
            self._next_count(),
            attested,
        )
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "type": "public-key",
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "attestationObject": websafe_encode(attestation),
            },
            "clientExtensionResults": {},
        }

    def get(self, options: dict, *, flags: int = Flag.UP | Flag.UV) -> dict:
        public_key = options["publicKey"]
        client_data = CollectedClientData.create(
            type="webauthn.get",
            challenge=websafe_decode(public_key["challenge"]),
            origin=self.origin,
        )
        auth_data = AuthenticatorData.create(
            hashlib.sha256(self.rp_id.encode()).digest(), Flag(flags), self._next_count()
        )
        signature = self.private.sign(auth_data + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "type": "public-key",
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": websafe_encode(self.user_handle),
            },
            "clientExtensionResults": {},
        }


WEBAUTHN = "/account/authenticators/webauthn"
WEBAUTHN_AUTHENTICATE = "/auth/webauthn/authenticate"
WEBAUTHN_REAUTHENTICATE = "/auth/webauthn/reauthenticate"


def register(client, key: SoftKey, name: str = "Key"):
    options = client.get(WEBAUTHN).json()["data"]["creation_options"]
    return client.post(WEBAUTHN, {"name": name, "credential": key.create(options)})


def assert_with(client, key: SoftKey, path: str = WEBAUTHN_AUTHENTICATE):
    options = client.get(path).json()["data"]["request_options"]
    return client.post(path, {"credential": key.get(options)})
