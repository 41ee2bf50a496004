"""Sign-In With Solana messages and ed25519 signatures made with PyNaCl, as wallets do."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import base58
import pytest
from nacl.signing import SigningKey

from wallets.chains.base import ChainError, Challenge
from wallets.chains.solana import SolanaFamily

MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
NOW = datetime(2026, 11, 22, 2, 9, 13, tzinfo=UTC)
# Phantom's SIWS "Maximal Message Template" (github.com/phantom/sign-in-with-solana),
# filled in with the values of its README's example input.
SIWS_EXAMPLE = """\
localhost:3000 wants you to sign in with your Solana account:
GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm5T

Clicking Sign or Approve only means you have proved this wallet is owned by you.

URI: https://localhost:3000/login
Version: 1
Chain ID: mainnet
Nonce: oBbLoEldZs
Issued At: 2023-11-21T16:21:22.104Z
Expiration Time: 2023-11-21T16:31:22.104Z
Not Before: 2023-11-21T16:21:22.104Z
Request ID: 6dd3fb5c
Resources:
- https://example.com
- https://phantom.app/"""


@pytest.fixture
def solana() -> SolanaFamily:
    return SolanaFamily()


@pytest.fixture
def solana_wallet() -> tuple[SigningKey, str]:
    key = SigningKey.generate()
    return key, base58.b58encode(bytes(key.verify_key)).decode()


def make_challenge(address: str, *, chain: str = MAINNET, statement: str | None = None):
    return Challenge(
        chain=chain,
        address=address,
        domain="signet.example",
        uri="https://signet.example/login",
        nonce="Zq8w2PbX0mNa7cE1",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=5),
        statement=statement,
    )


def sign(key: SigningKey, message: str) -> bytes:
    return key.sign(message.encode()).signature


def assert_code(error: pytest.ExceptionInfo[ChainError], code: str, param: str | None) -> None:
    assert (error.value.code, error.value.param) == (code, param)


def test_build_message_is_exact_siws_text(solana, solana_wallet):
    _, address = solana_wallet
    # No statement: SIWS puts a single blank line between address and fields.
    assert solana.build_message(make_challenge(address, chain=DEVNET)) == (
        "signet.example wants you to sign in with your Solana account:\n"
        f"{address}\n\n"
        "URI: https://signet.example/login\nVersion: 1\nChain ID: devnet\n"
        "Nonce: Zq8w2PbX0mNa7cE1\nIssued At: 2026-11-22T02:09:13.000Z\n"
        "Expiration Time: 2026-11-22T02:14:13.000Z"
    )
    with_statement = solana.build_message(make_challenge(address, statement="Hi."))
    assert f"{address}\n\nHi.\n\nURI: " in with_statement


@pytest.mark.parametrize("encode", [base58.b58encode, base64.b64encode])
def test_round_trip_with_base58_or_base64_signatures(solana, solana_wallet, encode):
    key, address = solana_wallet
    challenge = make_challenge(address, statement="Sign in to Signet.")
    message = solana.build_message(challenge)
    fields = solana.parse_message(message)
    assert (fields.address, fields.chain, fields.nonce, fields.domain, fields.uri) == (
        address,
        MAINNET,
        challenge.nonce,
        challenge.domain,
        challenge.uri,
    )
    assert (fields.issued_at, fields.expires_at) == (challenge.issued_at, challenge.expires_at)
    signature = encode(sign(key, message)).decode()
    solana.verify(
        chain=MAINNET, address=address, message=message, signature=signature, public_key=None
    )


def test_parses_the_siws_template(solana):
    fields = solana.parse_message(SIWS_EXAMPLE)
    assert fields.chain == MAINNET
    assert fields.address == "GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm5T"
    assert fields.issued_at == datetime(2023, 11, 21, 16, 21, 22, 104000, tzinfo=UTC)
    assert fields.not_before == fields.issued_at
    assert fields.request_id == "6dd3fb5c"
    assert fields.resources == ("https://example.com", "https://phantom.app/")
    assert fields.statement.startswith("Clicking Sign")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("Chain ID: mainnet", "Chain ID: localnet"),
        lambda t: t.replace("Chain ID: mainnet", "Chain ID: 5eykt4UsFv8P8NJdTREpY1vzqKqZKvdX"),
        # Every SIWS field is optional, but the server needs the nonce.
        lambda t: t.replace("Nonce: oBbLoEldZs\n", ""),
        lambda t: t.split("\n\nClicking")[0],
        lambda t: t.split("\n\nURI")[0],
        lambda t: t.replace("Version: 1", "Version: 2"),
        lambda t: t.replace("\n\nClicking", "\n\n\nClicking"),
        lambda t: t.replace("Solana account", "Ethereum account"),
        lambda t: t.replace("localhost:3000 wants", "https://localhost:3000 wants"),
        lambda t: t.replace("GHhNdrqq", "0HhNdrqq"),
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.replace("Nonce: oBbLoEldZs", "Nonce: oBbLoEl"),
        lambda t: t.replace("Issued At: 2023-11-21T16:21:22.104Z", "Issued At: Tue Nov 21 2023"),
        lambda t: t.replace("Version: 1\nChain ID: mainnet", "Chain ID: mainnet\nVersion: 1"),
    ],
)
def test_rejects_malformed_messages(solana, mutate):
    with pytest.raises(ChainError) as error:
        solana.parse_message(mutate(SIWS_EXAMPLE))
    assert_code(error, "invalid", "message")


ADDRESS = "GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm5T"


def test_parses_a_minimal_siws_message(solana):
    """Phantom's docs example input (domain, address) plus the nonce: SIWS needs no more."""
    head = "localhost:3000 wants you to sign in with your Solana account:"
    text = f"{head}\n{ADDRESS}\n\nNonce: oBbLoEldZs"
    fields = solana.parse_message(text)
    assert (fields.domain, fields.address, fields.nonce) == (
        "localhost:3000",
        ADDRESS,
        "oBbLoEldZs",
    )
    assert (fields.chain, fields.uri, fields.version, fields.issued_at) == (None, None, None, None)
    with_statement = text.replace("\n\nNonce", "\n\nSign in to the app.\n\nNonce")
    assert solana.parse_message(with_statement).statement == "Sign in to the app."


@pytest.mark.parametrize("chain_id", [MAINNET.partition(":")[2], MAINNET, "mainnet"])
def test_parses_walletconnect_format_message(solana, chain_id):
    """@walletconnect/utils formatMessage: the genesis hash as Chain ID, and the
    EIP-4361 layout (two blank lines) when there is no statement."""
    text = (
        f"localhost:3000 wants you to sign in with your Solana account:\n{ADDRESS}\n\n\n"
        f"URI: https://localhost:3000/login\nVersion: 1\nChain ID: {chain_id}\n"
        "Nonce: oBbLoEldZs\nIssued At: 2023-11-21T16:21:22.104Z"
    )
    fields = solana.parse_message(text)
    assert (fields.chain, fields.statement, fields.uri) == (
        MAINNET,
        None,
        "https://localhost:3000/login",
    )


@pytest.mark.parametrize(
    ("reference", "canonical", "cluster"),
    [
        ("mainnet", MAINNET, "mainnet"),
        ("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", MAINNET, "mainnet"),
        ("devnet", DEVNET, "devnet"),
        ("testnet", "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z", "testnet"),
    ],
)
def test_cluster_aliases(solana, solana_wallet, reference, canonical, cluster):
    assert solana.canonical_chain(reference) == canonical
    message = solana.build_message(make_challenge(solana_wallet[1], chain=canonical))
    assert f"\nChain ID: {cluster}\n" in message
    assert solana.parse_message(message).chain == canonical
    prefixed = message.replace(f"Chain ID: {cluster}", f"Chain ID: solana:{cluster}")
    assert solana.parse_message(prefixed).chain == canonical


@pytest.mark.parametrize(
    "reference", ["localnet", "Mainnet", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdX", ""]
)
def test_unknown_clusters_are_unsupported(solana, reference):
    with pytest.raises(ChainError) as error:
        solana.canonical_chain(reference)
    assert_code(error, "unsupported_chain", "chain")


@pytest.mark.parametrize(
    "address",
    [
        "thX6LZfHDZZKUs92febYZhYRcXddmzfzF2NvTkPNE",  # 31 bytes
        "JNArUumxYJcSQpbuxuroRZtcSMVLcy5WbYGt14SRm1Fv",  # 33 bytes
        "1GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm5T",  # a leading zero byte: 33 bytes
        "GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm5T ",
        "GHhNdrqqpXTkSpKp7F8WnsnKRfdqFLcvm3BJZzmrNm50",  # "0" is not base58
        "ghhndrqqpxtkspkp7f8wnsnkrfdqflcvm3bjzzmrnm5t",
        "0x" + "ab" * 20,
        "",
    ],
)
def test_canonical_address_rejects(solana, address):
    with pytest.raises(ChainError) as error:
        solana.canonical_address(MAINNET, address)
    assert_code(error, "invalid_address", "address")


def test_canonical_address_keeps_a_valid_key_as_is(solana, solana_wallet):
    _, address = solana_wallet
    assert solana.canonical_address(MAINNET, address) == address
    # A key starting with zero bytes encodes with leading "1"s: still 32 bytes.
    zeros = base58.b58encode(bytes(2) + bytes(range(30))).decode()
    assert zeros.startswith("11") and solana.canonical_address(MAINNET, zeros) == zeros


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m, s: (m.replace("Nonce: Zq8w", "Nonce: Zq8W"), base58.b58encode(s).decode()),
        lambda m, s: (m, base58.b58encode(s[:-1] + bytes([s[-1] ^ 1])).decode()),
        lambda m, s: (m, base58.b58encode(s[:63]).decode()),
        lambda m, s: (m, base64.b64encode(s + b"\0").decode()),
        lambda m, s: (m, base64.b64encode(s).decode().rstrip("=")[:-1]),
        lambda m, s: (m, "not base anything!"),
        lambda m, s: (m, s.hex()),
        lambda m, s: (m, ""),
    ],
)
def test_rejects_bad_signatures(solana, solana_wallet, tamper):
    key, address = solana_wallet
    message = solana.build_message(make_challenge(address))
    text, signature = tamper(message, sign(key, message))
    with pytest.raises(ChainError) as error:
        solana.verify(
            chain=MAINNET, address=address, message=text, signature=signature, public_key=None
        )
    assert_code(error, "invalid_signature", "signature")


def test_rejects_another_wallets_signature(solana, solana_wallet):
    _, address = solana_wallet
    message = solana.build_message(make_challenge(address))
    stranger = base58.b58encode(sign(SigningKey.generate(), message)).decode()
    with pytest.raises(ChainError) as error:
        solana.verify(
            chain=MAINNET, address=address, message=message, signature=stranger, public_key=None
        )
    assert_code(error, "invalid_signature", "signature")
