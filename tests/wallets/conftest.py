"""Wallets that sign the way real ones do, for the wallet API tests.

- EVM: eth-account's `sign_message` (MetaMask's personal_sign, EIP-191);
- Solana: ed25519 over the UTF-8 text with PyNaCl, base58 signature (Phantom);
- Cosmos: Keplr's `signArbitrary`, an ADR-036 amino sign doc signed with
  secp256k1 over sha256 (keccak256 for Ethermint keys) via coincurve.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field

import base58
import bech32
import pytest
from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak
from nacl.signing import SigningKey


@dataclass
class EvmWallet:
    chain: str = "eip155:1"
    account: object = field(default_factory=Account.create)
    public_key = None

    @property
    def address(self) -> str:
        return self.account.address

    def sign(self, message: str) -> str:
        signed = self.account.sign_message(encode_defunct(text=message))
        return signed.signature.to_0x_hex()


@dataclass
class SolanaWallet:
    chain: str = "solana:mainnet"
    key: SigningKey = field(default_factory=SigningKey.generate)
    public_key = None

    @property
    def address(self) -> str:
        return base58.b58encode(bytes(self.key.verify_key)).decode()

    def sign(self, message: str) -> str:
        return base58.b58encode(self.key.sign(message.encode()).signature).decode()


def amino_sign_doc(signer: str, message: str) -> bytes:
    """Keplr's signArbitrary document: sorted keys, no spaces, &<> escaped."""
    doc = {
        "chain_id": "",
        "account_number": "0",
        "sequence": "0",
        "fee": {"gas": "0", "amount": []},
        "msgs": [
            {
                "type": "sign/MsgSignData",
                "value": {"signer": signer, "data": base64.b64encode(message.encode()).decode()},
            }
        ],
        "memo": "",
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    escapes = {"&": "\\u0026", "<": "\\u003c", ">": "\\u003e"}
    return re.sub("[&<>]", lambda m: escapes[m[0]], text).encode()


@dataclass
class CosmosWallet:
    chain: str = "cosmos:cosmoshub-4"
    prefix: str = "cosmos"
    ethermint: bool = False  # Injective/Evmos keys: keccak256 everywhere
    key: PrivateKey = field(default_factory=PrivateKey)

    @property
    def address(self) -> str:
        if self.ethermint:
            account = keccak(self.key.public_key.format(compressed=False)[1:])[-20:]
        else:
            sha = hashlib.sha256(self.key.public_key.format()).digest()
            account = hashlib.new("ripemd160", sha).digest()
        return bech32.bech32_encode(self.prefix, bech32.convertbits(account, 8, 5))

    @property
    def public_key(self) -> str:
        return base64.b64encode(self.key.public_key.format()).decode()

    def sign(self, message: str) -> str:
        doc = amino_sign_doc(self.address, message)
        digest = keccak(doc) if self.ethermint else hashlib.sha256(doc).digest()
        # libsecp256k1 signs low-s; r||s is what Keplr returns, base64-encoded.
        signature = self.key.sign_recoverable(digest, hasher=None)[:64]
        return base64.b64encode(signature).decode()


@pytest.fixture
def evm_wallet() -> EvmWallet:
    return EvmWallet()


@pytest.fixture
def solana_wallet() -> SolanaWallet:
    return SolanaWallet()


@pytest.fixture
def cosmos_wallet() -> CosmosWallet:
    return CosmosWallet()


@pytest.fixture(params=["evm", "solana", "cosmos"])
def any_wallet(request):
    """Each family in turn: the flows must not care which."""
    return {"evm": EvmWallet, "solana": SolanaWallet, "cosmos": CosmosWallet}[request.param]()
