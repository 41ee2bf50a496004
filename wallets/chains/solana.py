"""Solana (CAIP-2 "solana"): Sign-In With Solana messages, ed25519 over their UTF-8 bytes.

SIWS (Phantom's spec, the Solana wallet-standard `signIn` feature) names the
cluster, not its genesis hash, in "Chain ID:", so only the clusters below can
be expressed; CAIP-2 names them by the first 32 characters of the genesis hash,
which is what WalletConnect's formatMessage writes there: both are read.
In SIWS every field after the address is optional; the server needs the
nonce, and binds the rest (URI, chain) to what it issued when present.
"""

from __future__ import annotations

import base64
import binascii

import base58
from nacl.exceptions import CryptoError
from nacl.signing import VerifyKey

from config.patterns import request_pattern
from wallets.chains.base import (
    INVALID,
    INVALID_ADDRESS,
    INVALID_SIGNATURE,
    UNSUPPORTED_CHAIN,
    ChainError,
    PublicKey,
    SignInFormat,
    SignInTextFamily,
)

CLUSTERS = {
    "mainnet": "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "devnet": "EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    "testnet": "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
}
_CLUSTER_BY_GENESIS = {genesis: name for name, genesis in CLUSTERS.items()}
_BASE58 = request_pattern("solana.base58", r"[1-9A-HJ-NP-Za-km-z]+", attacks=("1", "z0"))


def _invalid_signature(message: str) -> ChainError:
    return ChainError(INVALID_SIGNATURE, message, param="signature")


def decode_signature(signature: str) -> bytes:
    """64 bytes from base58 (what most wallets' JS hands over) or padded base64."""
    if isinstance(signature, str) and _BASE58.fullmatch(signature):
        raw = base58.b58decode(signature)
        if len(raw) == 64:
            return raw
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise _invalid_signature("The signature must be base58 or base64.") from None
    if len(raw) != 64:
        raise _invalid_signature("An ed25519 signature is 64 bytes.")
    return raw


def decode_address(address: str) -> bytes:
    """The 32-byte public key an address spells, or ChainError(invalid_address)."""
    # Base58 is case-sensitive and has one spelling per key; anything that does
    # not re-encode to itself (extra leading "1"s) is not the key.
    if isinstance(address, str) and 32 <= len(address) <= 44 and _BASE58.fullmatch(address):
        raw = base58.b58decode(address)
        if len(raw) == 32 and base58.b58encode(raw).decode() == address:
            return raw
    raise ChainError(
        INVALID_ADDRESS,
        "A Solana address is the base58 encoding of a 32-byte ed25519 public key.",
        param="address",
    )


class SolanaFamily(SignInTextFamily):
    namespace = "solana"
    text_format = SignInFormat(label="Solana", compact_without_statement=True, required=("Nonce",))

    def canonical_chain(self, reference: str) -> str:
        genesis = CLUSTERS.get(reference, reference)
        if genesis not in _CLUSTER_BY_GENESIS:
            raise ChainError(
                UNSUPPORTED_CHAIN,
                "Solana chains are mainnet, devnet or testnet (or their genesis hash).",
                param="chain",
            )
        return f"solana:{genesis}"

    def canonical_address(self, chain: str, address: str) -> str:
        decode_address(address)
        return address

    def message_chain_id(self, chain: str) -> str:
        return _CLUSTER_BY_GENESIS[self.canonical_chain(chain.partition(":")[2]).partition(":")[2]]

    def chain_from_message(self, value: str) -> str:
        # SIWS writes "mainnet" or "solana:mainnet"; WalletConnect the genesis hash.
        reference = value.removeprefix("solana:")
        if CLUSTERS.get(reference, reference) not in _CLUSTER_BY_GENESIS:
            raise ChainError(INVALID, f"unknown Solana Chain ID {value!r}", param="message")
        return self.canonical_chain(reference)

    def verify(
        self,
        *,
        chain: str,
        address: str,
        message: str,
        signature: str,
        public_key: PublicKey = None,  # the address is the public key
    ) -> None:
        key = decode_address(address)
        raw = decode_signature(signature)
        try:
            VerifyKey(key).verify(message.encode(), raw)
        except (CryptoError, ValueError):
            raise _invalid_signature("The signature does not verify.") from None
