"""Cosmos SDK chains (CAIP-2 "cosmos"): CAIP-122 text signed with Keplr's `signArbitrary`.

`signArbitrary` (ADR-036) does not sign the text itself but an amino sign doc
carrying it, in canonical JSON (keys sorted, no spaces, `&<>` escaped as amino
JSON and Keplr's escapeHTML do)::

    {"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"",
     "msgs":[{"type":"sign/MsgSignData","value":{"data":"<base64 text>",
     "signer":"<bech32>"}}],"sequence":"0"}

Standard keys sign sha256(doc) and own ripemd160(sha256(compressed key));
Ethermint keys (Injective, Evmos, ...) sign keccak256(doc) and own
keccak256(uncompressed key)[-20:]. Both reject high-s signatures, as the SDK does.
The chain decides which, not the key's type label: Keplr labels Injective's
eth_secp256k1 keys "tendermint/PubKeySecp256k1". On a chain not known to be
either, the address decides (a key owns both of its addresses).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

import bech32
from coincurve import PublicKey as Secp256k1Key
from coincurve.ecdsa import cdata_to_der, deserialize_compact
from eth_hash.auto import keccak

from config.patterns import request_pattern
from wallets.chains.base import (
    ADDRESS_MISMATCH,
    INVALID_ADDRESS,
    INVALID_PUBLIC_KEY,
    INVALID_SIGNATURE,
    REQUIRED,
    UNSUPPORTED_CHAIN,
    ChainError,
    PublicKey,
    SignInFormat,
    SignInTextFamily,
)

SECP256K1 = "secp256k1"
ETH_SECP256K1 = "eth_secp256k1"
_KEY_TYPES = {
    "tendermint/PubKeySecp256k1": SECP256K1,
    "/cosmos.crypto.secp256k1.PubKey": SECP256K1,
    "ethermint/PubKeyEthSecp256k1": ETH_SECP256K1,
    "/ethermint.crypto.v1.ethsecp256k1.PubKey": ETH_SECP256K1,
    "/injective.crypto.v1beta1.ethsecp256k1.PubKey": ETH_SECP256K1,
    "/cosmos.evm.crypto.v1.ethsecp256k1.PubKey": ETH_SECP256K1,
}
# Where the chain's account prefix is known, an address must carry it.
KNOWN_PREFIXES = {
    "cosmoshub-4": "cosmos",
    "osmosis-1": "osmo",
    "injective-1": "inj",
    "evmos_9001-2": "evmos",
    "juno-1": "juno",
    "neutron-1": "neutron",
    "stargaze-1": "stars",
    "celestia": "celestia",
    "dydx-mainnet-1": "dydx",
    "noble-1": "noble",
}
_CHAIN_REFERENCE = request_pattern("cosmos.chain_reference", r"[-_a-zA-Z0-9]{1,32}")
# Chains whose accounts are Ethermint keys; and Ethermint's own chain-id format,
# "{name}_{EIP-155 chain id}-{version}" (evmos_9001-2, dymension_1100-1, ...).
ETHERMINT_CHAINS = frozenset({"injective-1", "injective-888", "evmos_9001-2", "evmos_9000-4"})
_ETHERMINT_CHAIN_ID = request_pattern(
    "cosmos.ethermint_chain_id", r"[a-z][a-z0-9]*_[1-9][0-9]*-[1-9][0-9]*"
)
_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_ESCAPES = {"&": "\\u0026", "<": "\\u003c", ">": "\\u003e"}


def ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 without the legacy provider has no RIPEMD-160
        from Crypto.Hash import RIPEMD160

        return RIPEMD160.new(data).digest()


def adr036_sign_doc(signer: str, message: str) -> bytes:
    """The canonical amino JSON bytes Keplr's signArbitrary signs for `message`."""
    doc = {
        "account_number": "0",
        "chain_id": "",
        "fee": {"amount": [], "gas": "0"},
        "memo": "",
        "msgs": [
            {
                "type": "sign/MsgSignData",
                "value": {"data": base64.b64encode(message.encode()).decode(), "signer": signer},
            }
        ],
        "sequence": "0",
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return text.encode()


def _b64(value: object) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)  # type: ignore[arg-type]
    except (binascii.Error, ValueError, TypeError):
        return None


def parse_public_key(public_key: PublicKey) -> tuple[Secp256k1Key, str | None]:
    """A base64 compressed key, or Keplr's {"type", "value"} / proto {"@type", "key"} object."""
    if public_key is None or public_key == "":
        raise ChainError(REQUIRED, "Cosmos sign-in needs the public key.", param="public_key")
    kind = None
    if isinstance(public_key, Mapping):
        kind = _KEY_TYPES.get(public_key.get("type", public_key.get("@type")))
        if kind is None:
            raise ChainError(INVALID_PUBLIC_KEY, "Unsupported key type.", param="public_key")
        public_key = public_key.get("value", public_key.get("key"))
    raw = _b64(public_key)
    if raw is None or len(raw) != 33:
        raise ChainError(
            INVALID_PUBLIC_KEY, "Expected a base64 33-byte compressed key.", param="public_key"
        )
    try:
        return Secp256k1Key(raw), kind
    except ValueError:
        raise ChainError(
            INVALID_PUBLIC_KEY, "Not a secp256k1 public key.", param="public_key"
        ) from None


def key_account(key: Secp256k1Key, kind: str) -> bytes:
    """The 20-byte account a key owns under `kind`'s derivation."""
    if kind == ETH_SECP256K1:
        return keccak(key.format(compressed=False)[1:])[-20:]
    return ripemd160(hashlib.sha256(key.format()).digest())


def _decode_signature(signature: str) -> bytes:
    raw = _b64(signature)
    if raw is None or len(raw) != 64:
        raise ChainError(
            INVALID_SIGNATURE, "Expected a base64 64-byte r||s signature.", param="signature"
        )
    if int.from_bytes(raw[32:], "big") > _HALF_ORDER:
        raise ChainError(
            INVALID_SIGNATURE, "High-s signatures are not accepted (malleable).", param="signature"
        )
    return raw


class CosmosFamily(SignInTextFamily):
    namespace = "cosmos"
    # WalletConnect's formatMessage writes the namespace: "...with your cosmos account:".
    text_format = SignInFormat(label="Cosmos", other_labels=("cosmos",))

    def __init__(self, prefixes: Mapping[str, str] | None = None):
        """`prefixes`: chain id -> bech32 account prefix, added to KNOWN_PREFIXES."""
        self._prefixes = {**KNOWN_PREFIXES, **(prefixes or {})}

    def canonical_chain(self, reference: str) -> str:
        if not _CHAIN_REFERENCE.fullmatch(reference):
            raise ChainError(
                UNSUPPORTED_CHAIN, "A Cosmos chain id is 1-32 of [-_a-zA-Z0-9].", param="chain"
            )
        return f"cosmos:{reference}"

    def canonical_address(self, chain: str, address: str) -> str:
        return self._decode_address(chain, address)[0]

    def _decode_address(self, chain: str, address: str) -> tuple[str, bytes]:
        """(canonical address, account bytes); bech32 decoding is slow pure Python: once."""
        hrp, data = bech32.bech32_decode(address) if isinstance(address, str) else (None, None)
        account = bech32.convertbits(data, 5, 8, False) if data is not None else None
        if hrp is None or account is None or len(account) not in (20, 32):
            raise ChainError(
                INVALID_ADDRESS, "Not a bech32 Cosmos account address.", param="address"
            )
        expected = self._prefixes.get(chain.partition(":")[2])
        if expected is not None and hrp != expected:
            raise ChainError(
                INVALID_ADDRESS, f"Addresses on {chain} start with {expected}1.", param="address"
            )
        return address.lower(), bytes(account)

    @staticmethod
    def key_kinds(chain: str) -> tuple[str, ...]:
        """How accounts derive from keys on `chain`; both where the chain is not known."""
        reference = chain.partition(":")[2]
        if reference in ETHERMINT_CHAINS or _ETHERMINT_CHAIN_ID.fullmatch(reference):
            return (ETH_SECP256K1,)
        if reference in KNOWN_PREFIXES:
            return (SECP256K1,)
        return (SECP256K1, ETH_SECP256K1)

    def verify(
        self,
        *,
        chain: str,
        address: str,
        message: str,
        signature: str,
        public_key: PublicKey = None,  # required: ChainError(required) when missing
    ) -> None:
        address, account = self._decode_address(chain, address)
        key, _label = parse_public_key(public_key)  # the label does not decide: the chain does
        raw = _decode_signature(signature)
        kinds = self.key_kinds(chain)
        kind = next((k for k in kinds if key_account(key, k) == account), None)
        if kind is None:
            raise ChainError(
                ADDRESS_MISMATCH, "The public key does not belong to the address.", param="address"
            )
        doc = adr036_sign_doc(address, message)
        digest = keccak(doc) if kind == ETH_SECP256K1 else hashlib.sha256(doc).digest()
        try:
            valid = key.verify(cdata_to_der(deserialize_compact(raw)), digest, hasher=None)
        except ValueError:  # r or s zero or not below the group order
            valid = False
        if not valid:
            raise ChainError(INVALID_SIGNATURE, "The signature does not verify.", param="signature")
