"""CAIP-122 messages signed the way Keplr's signArbitrary signs them (ADR-036).

Own signatures are made with coincurve (libsecp256k1, RFC 6979 nonces, low-s),
which yields byte-for-byte what Keplr returns for the same key and document.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import bech32
import pytest
from coincurve import PrivateKey
from eth_hash.auto import keccak

from wallets.chains.base import ChainError, Challenge
from wallets.chains.cosmos import CosmosFamily, adr036_sign_doc, ripemd160

NOW = datetime(2026, 11, 22, 2, 9, 13, tzinfo=UTC)
ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# Real wallet output, from coinhall/cosmes src/codec/verify.test.ts: "Signed using
# Keplr wallet on Osmosis" and "... on Injective" (an eth_secp256k1 key).
COSMES_DATA = "Hi from CosmeES! This is a test message just to prove that the wallet is working."
KEPLR_OSMOSIS = {
    "address": "osmo1xc6unv7l44lh5md7l6meg5shq93ww23sch8ag6",
    "public_key": "A8i9vMNUGcTtUgpbmiZqcFtsIrPZ6n8ZYN4/PVRlQvGr",
    "signature": (
        "nvlcV0x0Ge8ADXLSAQGtfMw6EJkOfpmkDxgP7UI79uR8MhnAOp9T+e+ofgW9kY4bEIr0yhyBG+vSVAZRv9uCxA=="
    ),
}
KEPLR_INJECTIVE = {
    "address": "inj1ys3hr2a6sn3wwqsmmrk8pgrvk58e8wrn6zn44m",
    "public_key": "AmGjuPKUsuIAuGgJ3xH7KGWlSU9cwVnsesrwWwyYLbMg",
    "signature": (
        "+7PNZm4XxKtpvZA+HqxpMKJgZcqA2w3WVSheLGvzrrIBJZGOTdcpBT7wLUhluY46EokTeRRWUaBDSv2vVoEdfw=="
    ),
}
# A public @keplr-wallet/cosmos verifyADR36Amino example (message = the address);
# the key is the well-known test key of Fairblock/fairyring's scripts.
KEPLR_HUB = {
    "address": "cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud",
    "public_key": "A/MdHVpitzHNSdD1Zw3kY+L5PEIPyd9l6sD5i4aIfXp9",
    "signature": (
        "vb78/y129cOiWyQkeFF8wCKZsOyzjpILnpEVZ72o5YUhEOmQZzVPcbUqWPLR7aZQ20j6vnYhIuCQN0HEG3igFg=="
    ),
}
HUB_PRIVATE_KEY = "a267fb03b3e6dc381550ea0257ace31433698f16248ba111dfb75550364d31fe"


@pytest.fixture
def cosmos() -> CosmosFamily:
    return CosmosFamily()


class Wallet:
    """A Keplr-like account: a secp256k1 key, its bech32 address and signArbitrary."""

    def __init__(self, prefix: str = "cosmos", *, ethermint: bool = False, key: bytes = b""):
        self.key = PrivateKey(key) if key else PrivateKey()
        self.ethermint = ethermint
        public = self.key.public_key
        if ethermint:
            account = keccak(public.format(compressed=False)[1:])[-20:]
        else:
            account = ripemd160(hashlib.sha256(public.format()).digest())
        self.address = bech32.bech32_encode(prefix, bech32.convertbits(account, 8, 5))
        self.public_key = base64.b64encode(public.format()).decode()

    def sign_arbitrary(self, message: str) -> str:
        doc = adr036_sign_doc(self.address, message)
        digest = keccak(doc) if self.ethermint else hashlib.sha256(doc).digest()
        return base64.b64encode(self.key.sign_recoverable(digest, hasher=None)[:64]).decode()


@pytest.fixture
def cosmos_wallet() -> Wallet:
    return Wallet()


def make_challenge(wallet: Wallet, chain: str = "cosmos:cosmoshub-4") -> Challenge:
    return Challenge(
        chain=chain,
        address=wallet.address,
        domain="signet.example",
        uri="https://signet.example/login",
        nonce="Vb6tXq1L9sPmE3rK",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=5),
        statement="Sign in to Signet.",
    )


def error_of(family: CosmosFamily, **kwargs) -> tuple[str, str | None] | None:
    try:
        family.verify(**kwargs)
    except ChainError as error:
        return error.code, error.param
    return None


def test_sign_doc_is_keplrs_canonical_amino_json():
    assert adr036_sign_doc("cosmos1abc", "Hi & <bye>") == (
        b'{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"",'
        b'"msgs":[{"type":"sign/MsgSignData","value":{"data":"SGkgJiA8YnllPg==",'
        b'"signer":"cosmos1abc"}}],"sequence":"0"}'
    )
    # Amino JSON escapes &, < and > (Keplr's escapeHTML); base64 data and bech32
    # signers never contain them, but a signer string that did must be escaped.
    assert b'"signer":"a\\u0026b\\u003cc\\u003e"' in adr036_sign_doc("a&b<c>", "")


def test_coincurve_reproduces_keplrs_signature_bytes():
    wallet = Wallet(key=bytes.fromhex(HUB_PRIVATE_KEY))
    assert (wallet.address, wallet.public_key) == (KEPLR_HUB["address"], KEPLR_HUB["public_key"])
    assert wallet.sign_arbitrary(KEPLR_HUB["address"]) == KEPLR_HUB["signature"]


@pytest.mark.parametrize(
    ("chain", "vector", "message", "key_type"),
    [
        ("cosmos:osmosis-1", KEPLR_OSMOSIS, COSMES_DATA, "tendermint/PubKeySecp256k1"),
        ("cosmos:injective-1", KEPLR_INJECTIVE, COSMES_DATA, "ethermint/PubKeyEthSecp256k1"),
        (
            "cosmos:injective-1",
            KEPLR_INJECTIVE,
            COSMES_DATA,
            "/injective.crypto.v1beta1.ethsecp256k1.PubKey",
        ),
        ("cosmos:cosmoshub-4", KEPLR_HUB, KEPLR_HUB["address"], "/cosmos.crypto.secp256k1.PubKey"),
    ],
)
def test_verifies_real_keplr_signatures(cosmos, chain, vector, message, key_type):
    common = {"chain": chain, "address": vector["address"], "message": message}
    for public_key in (
        vector["public_key"],
        {"type": key_type, "value": vector["public_key"]},
        {"@type": key_type, "key": vector["public_key"]},
    ):
        cosmos.verify(**common, signature=vector["signature"], public_key=public_key)
    assert (
        error_of(cosmos, **common, signature=vector["signature"], public_key=vector["public_key"])
        is None
    )
    assert error_of(
        cosmos,
        **{**common, "message": message + "."},
        signature=vector["signature"],
        public_key=vector["public_key"],
    ) == ("invalid_signature", "signature")


@pytest.mark.parametrize(
    "label", ["tendermint/PubKeySecp256k1", "/cosmos.crypto.secp256k1.PubKey", None]
)
def test_the_chain_decides_the_derivation_not_the_label(cosmos, label):
    """Keplr's signArbitrary on Injective labels its eth_secp256k1 key
    tendermint/PubKeySecp256k1; sent as is, it signs in."""
    key = KEPLR_INJECTIVE["public_key"]
    assert (
        error_of(
            cosmos,
            chain="cosmos:injective-1",
            address=KEPLR_INJECTIVE["address"],
            message=COSMES_DATA,
            signature=KEPLR_INJECTIVE["signature"],
            public_key={"type": label, "value": key} if label else key,
        )
        is None
    )


def test_on_a_standard_chain_an_ethermint_label_does_not_change_the_derivation(cosmos):
    wallet = Wallet(key=bytes.fromhex(HUB_PRIVATE_KEY))
    key = {"type": "ethermint/PubKeyEthSecp256k1", "value": wallet.public_key}
    common = {"chain": "cosmos:cosmoshub-4", "message": KEPLR_HUB["address"], "public_key": key}
    signature = KEPLR_HUB["signature"]
    assert error_of(cosmos, address=KEPLR_HUB["address"], signature=signature, **common) is None
    # The same key's Ethermint address is not an account of the Hub.
    eth = Wallet("cosmos", ethermint=True, key=bytes.fromhex(HUB_PRIVATE_KEY))
    eth_signature = eth.sign_arbitrary(KEPLR_HUB["address"])
    assert error_of(cosmos, address=eth.address, signature=eth_signature, **common) == (
        "address_mismatch",
        "address",
    )


@pytest.mark.parametrize(
    ("chain", "ethermint", "expected"),
    [
        ("cosmos:injective-1", False, ("address_mismatch", "address")),  # a standard key's address
        ("cosmos:evmos_9001-2", False, ("address_mismatch", "address")),
        ("cosmos:dymension_1100-1", True, None),  # Ethermint's chain-id format
        ("cosmos:somechain-1", True, None),  # not known: the address decides
        ("cosmos:somechain-1", False, None),
    ],
)
def test_derivation_by_chain(cosmos, chain, ethermint, expected):
    prefix = {"injective-1": "inj", "evmos_9001-2": "evmos"}.get(chain[7:], "some")
    wallet = Wallet(prefix, ethermint=ethermint)
    signature = wallet.sign_arbitrary("gm")
    outcome = error_of(
        cosmos,
        chain=chain,
        address=wallet.address,
        message="gm",
        signature=signature,
        public_key={"type": "tendermint/PubKeySecp256k1", "value": wallet.public_key},
    )
    assert outcome == expected


@pytest.mark.parametrize(
    ("prefix", "chain", "ethermint"),
    [
        ("cosmos", "cosmos:cosmoshub-4", False),
        ("osmo", "cosmos:osmosis-1", False),
        ("inj", "cosmos:injective-1", True),
        ("evmos", "cosmos:evmos_9001-2", True),
        ("akash", "cosmos:akashnet-2", False),
    ],
)
def test_round_trip_build_sign_parse_verify(cosmos, prefix, chain, ethermint):
    wallet = Wallet(prefix, ethermint=ethermint)
    challenge = make_challenge(wallet, chain)
    message = cosmos.build_message(challenge)
    assert message.startswith("signet.example wants you to sign in with your Cosmos account:\n")
    assert f"\nChain ID: {chain.partition(':')[2]}\n" in message
    fields = cosmos.parse_message(message)
    assert (fields.address, fields.chain, fields.nonce) == (wallet.address, chain, challenge.nonce)
    assert (fields.issued_at, fields.expires_at) == (challenge.issued_at, challenge.expires_at)
    cosmos.verify(
        chain=chain,
        address=wallet.address,
        message=message,
        signature=wallet.sign_arbitrary(message),
        public_key=wallet.public_key,
    )


def test_rejects_high_s_signatures(cosmos, cosmos_wallet):
    message = cosmos.build_message(make_challenge(cosmos_wallet))
    raw = base64.b64decode(cosmos_wallet.sign_arbitrary(message))
    s = int.from_bytes(raw[32:], "big")
    assert s <= ORDER // 2, "libsecp256k1 signs low-s"
    # (r, n - s) is the same signature mirrored: valid ECDSA, refused as malleable.
    high = base64.b64encode(raw[:32] + (ORDER - s).to_bytes(32, "big")).decode()
    common = {"chain": "cosmos:cosmoshub-4", "address": cosmos_wallet.address, "message": message}
    assert error_of(cosmos, **common, signature=high, public_key=cosmos_wallet.public_key) == (
        "invalid_signature",
        "signature",
    )


def test_rejects_keys_that_do_not_own_the_address(cosmos, cosmos_wallet):
    message = cosmos.build_message(make_challenge(cosmos_wallet))
    stranger = Wallet()
    common = {"chain": "cosmos:cosmoshub-4", "address": cosmos_wallet.address, "message": message}
    # The stranger's key and signature are consistent, but not the address's.
    assert error_of(
        cosmos,
        **common,
        signature=stranger.sign_arbitrary(message),
        public_key=stranger.public_key,
    ) == ("address_mismatch", "address")
    assert error_of(
        cosmos,
        **common,
        signature=stranger.sign_arbitrary(message),
        public_key=cosmos_wallet.public_key,
    ) == ("invalid_signature", "signature")


@pytest.mark.parametrize(
    ("public_key", "code"),
    [
        (None, "required"),
        ("", "required"),
        ("not base64!", "invalid_public_key"),
        (base64.b64encode(b"\x02" + bytes(31)).decode(), "invalid_public_key"),
        (base64.b64encode(b"\x05" + bytes(32)).decode(), "invalid_public_key"),
        (base64.b64encode(b"\x02" + b"\xff" * 32).decode(), "invalid_public_key"),
        (base64.b64encode(PrivateKey().public_key.format(False)).decode(), "invalid_public_key"),
        ({"type": "tendermint/PubKeyEd25519", "value": "AAAA"}, "invalid_public_key"),
        ({"type": "tendermint/PubKeySecp256k1"}, "invalid_public_key"),
        (["A" * 44], "invalid_public_key"),
    ],
)
def test_rejects_bad_public_keys(cosmos, cosmos_wallet, public_key, code):
    assert error_of(
        cosmos,
        chain="cosmos:cosmoshub-4",
        address=cosmos_wallet.address,
        message="gm",
        signature=cosmos_wallet.sign_arbitrary("gm"),
        public_key=public_key,
    ) == (code, "public_key")


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not base64!",
        base64.b64encode(bytes(63)).decode(),
        base64.b64encode(bytes(65)).decode(),
        base64.b64encode(bytes(64)).decode(),  # r = s = 0
        base64.b64encode(b"\xff" * 32 + b"\x01" * 32).decode(),  # r >= n
        "Zm9v",
    ],
)
def test_rejects_bad_signatures(cosmos, cosmos_wallet, signature):
    assert error_of(
        cosmos,
        chain="cosmos:cosmoshub-4",
        address=cosmos_wallet.address,
        message="gm",
        signature=signature,
        public_key=cosmos_wallet.public_key,
    ) == ("invalid_signature", "signature")


def test_canonical_address(cosmos):
    address = KEPLR_HUB["address"]
    assert cosmos.canonical_address("cosmos:cosmoshub-4", address.upper()) == address
    # An unknown chain accepts any prefix; 32-byte (module, contract) accounts too.
    assert cosmos.canonical_address("cosmos:akashnet-2", KEPLR_OSMOSIS["address"])
    module = bech32.bech32_encode("cosmos", bech32.convertbits(bytes(range(32)), 8, 5))
    assert cosmos.canonical_address("cosmos:cosmoshub-4", module) == module
    custom = CosmosFamily(prefixes={"akashnet-2": "akash"})
    with pytest.raises(ChainError):
        custom.canonical_address("cosmos:akashnet-2", KEPLR_OSMOSIS["address"])


@pytest.mark.parametrize(
    ("chain", "address"),
    [
        ("cosmos:cosmoshub-4", KEPLR_OSMOSIS["address"]),  # osmo1 on the Hub
        ("cosmos:cosmoshub-4", KEPLR_HUB["address"][:-1] + "q"),  # checksum
        ("cosmos:cosmoshub-4", "Cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud"),  # mixed case
        ("cosmos:cosmoshub-4", bech32.bech32_encode("cosmos", bech32.convertbits(bytes(19), 8, 5))),
        ("cosmos:cosmoshub-4", "cosmos1"),
        ("cosmos:cosmoshub-4", "0x" + "ab" * 20),
        ("cosmos:cosmoshub-4", ""),
    ],
)
def test_canonical_address_rejects(cosmos, chain, address):
    with pytest.raises(ChainError) as error:
        cosmos.canonical_address(chain, address)
    assert (error.value.code, error.value.param) == ("invalid_address", "address")


@pytest.mark.parametrize("reference", ["cosmoshub-4", "evmos_9001-2", "a", "x" * 32])
def test_canonical_chain(cosmos, reference):
    assert cosmos.canonical_chain(reference) == f"cosmos:{reference}"


@pytest.mark.parametrize("reference", ["", "x" * 33, "cosmos hub", "hub.4", "hub:4"])
def test_canonical_chain_rejects(cosmos, reference):
    with pytest.raises(ChainError) as error:
        cosmos.canonical_chain(reference)
    assert (error.value.code, error.value.param) == ("unsupported_chain", "chain")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("Cosmos account", "Ethereum account"),
        lambda t: t.replace("Chain ID: cosmoshub-4", "Chain ID: cosmos:cosmoshub-4"),
        lambda t: t.replace("Chain ID: cosmoshub-4", "Chain ID: osmosis-1"),  # cosmos1 address
        lambda t: t.replace("cosmos1", "COSMOS1"),
        lambda t: t.replace("\n\nSign in", "\n\n\nSign in"),
        lambda t: t.replace("signet.example wants", "https://signet.example wants"),
    ],
)
def test_rejects_malformed_messages(cosmos, cosmos_wallet, mutate):
    message = cosmos.build_message(make_challenge(cosmos_wallet))
    with pytest.raises(ChainError) as error:
        cosmos.parse_message(mutate(message))
    assert (error.value.code, error.value.param) == ("invalid", "message")
