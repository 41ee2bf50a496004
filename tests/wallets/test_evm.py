"""EIP-4361 messages, EIP-55 addresses and personal_sign verification for eip155.

Signatures come from eth-account, as MetaMask-style wallets make them. Contract
wallets (EIP-1271, EIP-6492) run on an in-process chain (py-evm through web3's
EthereumTesterProvider) with hand-assembled contracts, at the end of the file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from tests.wallets.contracts import FACTORY_RUNTIME, init_code, local_chain, wallet_runtime
from wallets.chains.base import ChainError, Challenge, format_timestamp, parse_timestamp
from wallets.chains.evm import (
    ERC6492_SUFFIX,
    EvmFamily,
    checksum_address,
    recover_address,
)

CHAIN = "eip155:1"
NOW = datetime(2026, 11, 22, 2, 9, 13, 123000, tzinfo=UTC)
EIP4361_EXAMPLE = """\
example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""


@pytest.fixture
def evm() -> EvmFamily:
    return EvmFamily()


@pytest.fixture
def evm_wallet():
    return Account.create()


def make_challenge(address: str, *, statement: str | None = "Sign in to Signet.") -> Challenge:
    return Challenge(
        chain=CHAIN,
        address=address,
        domain="signet.example:8443",
        uri="https://signet.example:8443/login",
        nonce="q3V9sLx0aR7mKd2T",
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=5),
        statement=statement,
    )


def sign(wallet, message: str) -> str:
    return wallet.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


def assert_code(error: pytest.ExceptionInfo[ChainError], code: str, param: str | None) -> None:
    assert (error.value.code, error.value.param) == (code, param)
    assert error.value.message


def test_eth_account_recovers_with_coincurve():
    # The reference the tests compare recover_address with (libsecp256k1 too).
    from eth_keys.backends import CoinCurveECCBackend

    assert isinstance(Account._keys.backend, CoinCurveECCBackend)


def _reference_recover(message: str, signature: bytes) -> str | None:
    """What eth-account answers (the recovery id as 27/28), or None where it refuses."""
    v = signature[64]
    if v in (0, 1):
        signature = signature[:64] + bytes([v + 27])
    elif v not in (27, 28):
        return None
    try:
        return Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:
        return None


N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_recovery_agrees_with_eth_account(evm_wallet):
    message = "Sign in to Signet.\nNonce: q3V9sLx0aR7mKd2T"
    good = bytes.fromhex(sign(evm_wallet, message)[2:])
    r, s, v = good[:32], good[32:64], good[64]
    high_s = (N - int.from_bytes(s, "big")).to_bytes(32, "big")
    cases = [
        good,
        r + s + bytes([v - 27]),  # bare recovery id
        r + s + bytes([((v - 27) ^ 1) + 27]),  # the other recovery id: another key
        r + high_s + bytes([((v - 27) ^ 1) + 27]),  # the malleated twin
        r + s + bytes([29]),
        bytes(32) + s + bytes([v]),  # r = 0
        r + bytes(32) + bytes([v]),  # s = 0
        N.to_bytes(32, "big") + s + bytes([v]),  # r = n
        r + (N + 1).to_bytes(32, "big") + bytes([v]),  # s > n
        b"\xff" * 64 + bytes([v]),
    ]
    for signature in cases:
        assert recover_address(message, signature) == _reference_recover(message, signature)
    assert recover_address(message, good) == evm_wallet.address
    assert recover_address(message + " ", good) not in (None, evm_wallet.address)


def test_verifying_does_not_import_eth_account():
    import subprocess
    import sys

    code = (
        "import sys; from wallets.chains.evm import recover_address; "
        "recover_address('x', bytes(64) + bytes([27])); "
        "print('eth_account' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_build_message_is_exact_eip4361_text(evm):
    address = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert evm.build_message(make_challenge(address)) == (
        "signet.example:8443 wants you to sign in with your Ethereum account:\n"
        f"{address}\n\nSign in to Signet.\n\n"
        "URI: https://signet.example:8443/login\nVersion: 1\nChain ID: 1\n"
        "Nonce: q3V9sLx0aR7mKd2T\nIssued At: 2026-11-22T02:09:13.123Z\n"
        "Expiration Time: 2026-11-22T02:14:13.123Z"
    )
    # Without a statement the ABNF keeps three line feeds after the address.
    assert f"{address}\n\n\nURI: " in evm.build_message(make_challenge(address, statement=None))


@pytest.mark.parametrize(
    "change",
    [
        {"domain": "https://signet.example"},
        {"uri": "/login"},
        {"statement": "Two\nlines"},
        {"statement": "Sign in \u2192 Signet"},
        {"nonce": "short"},
        {"address": "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
        {"issued_at": NOW.replace(tzinfo=None)},
    ],
)
def test_build_message_refuses_values_outside_the_grammar(evm, change):
    challenge = make_challenge("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    with pytest.raises((ValueError, ChainError)):
        evm.build_message(replace(challenge, **change))


def test_build_message_writes_the_checksummed_address(evm):
    message = evm.build_message(make_challenge("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))
    assert "\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n" in message


def test_round_trip_build_sign_parse_verify(evm, evm_wallet):
    challenge = make_challenge(evm.canonical_address(CHAIN, evm_wallet.address.lower()))
    message = evm.build_message(challenge)
    fields = evm.parse_message(message)
    issued = (challenge.domain, challenge.address, challenge.chain, challenge.uri, challenge.nonce)
    assert (fields.domain, fields.address, fields.chain, fields.uri, fields.nonce) == issued
    assert (fields.issued_at, fields.expires_at) == (challenge.issued_at, challenge.expires_at)
    assert (fields.version, fields.statement, fields.scheme) == ("1", "Sign in to Signet.", None)
    evm.verify(
        chain=CHAIN,
        address=challenge.address,
        message=message,
        signature=sign(evm_wallet, message),
        public_key=None,
    )


@pytest.mark.parametrize(
    ("header", "domain", "scheme"),
    [
        ("example.com", "example.com", None),
        ("example.com:3388", "example.com:3388", None),
        ("https://example.com", "example.com", "https"),
    ],
)
def test_parses_the_eip4361_examples(evm, header, domain, scheme):
    text = EIP4361_EXAMPLE.replace("example.com wants", f"{header} wants", 1)
    fields = evm.parse_message(text)
    assert (fields.domain, fields.scheme, fields.chain, fields.nonce) == (
        domain,
        scheme,
        "eip155:1",
        "32891756",
    )
    assert fields.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert fields.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert fields.issued_at == datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)
    assert fields.expires_at is None and fields.not_before is None
    assert fields.resources == (
        "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
        "https://example.com/my-web2-claim.json",
    )


def test_parses_every_optional_field_in_order(evm):
    text = EIP4361_EXAMPLE.replace(
        "Issued At: 2021-09-30T16:25:24Z",
        "Issued At: 2021-09-30T16:25:24Z\nExpiration Time: 2021-09-30T18:25:24.5+02:00\n"
        "Not Before: 2021-09-30t16:20:24z\nRequest ID: req-1:a@b",
    )
    fields = evm.parse_message(text)
    assert fields.expires_at == datetime(2021, 9, 30, 16, 25, 24, 500000, tzinfo=UTC)
    assert fields.not_before == datetime(2021, 9, 30, 16, 20, 24, tzinfo=UTC)
    assert fields.request_id == "req-1:a@b"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t + "\n",
        lambda t: t.replace("Nonce: 32891756\n", ""),
        lambda t: t.replace("URI: https://example.com/login\n", ""),
        lambda t: t.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"),
        lambda t: t.replace("Resources:", "Request ID: x\nExpiration Time: 2021-09-30T17:25:24Z"),
        lambda t: t.replace("Nonce: 32891756", "Nonce: 32891756\nNonce: 32891756"),
        lambda t: t.replace("Nonce: 32891756", "Nonce: 3289175"),
        lambda t: t.replace("Nonce: 32891756", "Nonce: 3289-1756"),
        lambda t: t.replace("Version: 1", "Version: 2"),
        lambda t: t.replace("Chain ID: 1", "Chain ID: 01"),
        lambda t: t.replace("Chain ID: 1", "Chain ID: eip155:1"),
        lambda t: t.replace("16:25:24Z", "16:25:24"),
        lambda t: t.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25:24Z"),
        lambda t: t.replace("2021-09-30T16:25:24Z", "1633019124"),
        lambda t: t.replace("2021-09-30T16:25:24Z", "2021-09-31T16:25:24Z"),
        lambda t: t.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0x" + "c0" * 20),
        lambda t: t.replace("0xC02aaA39b", "0xc02aaA39b"),
        lambda t: t.replace("Ethereum account", "Solana account"),
        lambda t: t.replace("example.com wants", "https://exa mple.com wants"),
        lambda t: t.replace("example.com wants", "ex/ample.com wants"),
        lambda t: t.replace("\n\nI accept", "\nI accept"),
        lambda t: t.replace("https://example.com/tos\n\n", "https://example.com/tos\n"),
        lambda t: t.replace("Terms of Service", "Terms of Service \u2014 ok"),
        lambda t: t.replace("URI: https://example.com/login", "URI: not a uri"),
        lambda t: t.replace("- https://example.com/my-web2-claim.json", "-https://x.y"),
        lambda t: t.split("\n\nURI")[0],
        lambda t: "Please sign: Nonce: 32891756 " + t.replace("\n", " "),
        lambda t: "",
        lambda t: t.replace("Resources:", "Resources:" + "\n- https://example.com" * 1000),
    ],
)
def test_rejects_malformed_messages(evm, mutate):
    with pytest.raises(ChainError) as error:
        evm.parse_message(mutate(EIP4361_EXAMPLE))
    assert_code(error, "invalid", "message")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-09-30T16:25:24Z", datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)),
        ("2021-09-30T18:25:24+02:00", datetime(2021, 9, 30, 16, 25, 24, tzinfo=UTC)),
        ("2021-09-30T16:25:24.1234567-00:30", datetime(2021, 9, 30, 16, 55, 24, 123456, UTC)),
    ],
)
def test_parse_timestamp_accepts_rfc3339_with_any_offset(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text", ["2021-09-30T16:25:60Z", "2021-09-30T16:25Z", "2021-09-30", "2021-09-30T16:25:24+24:00"]
)
def test_parse_timestamp_rejects_non_rfc3339(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_format_timestamp_is_utc_and_lossless():
    assert format_timestamp(NOW.replace(microsecond=0)) == "2026-11-22T02:09:13.000Z"
    assert format_timestamp(NOW.astimezone(datetime.now().astimezone().tzinfo)).endswith(".123Z")
    assert format_timestamp(NOW.replace(microsecond=123456)).endswith(".123456Z")
    with pytest.raises(ValueError):
        format_timestamp(NOW.replace(tzinfo=None))


# EIP-55's own examples.
CHECKSUMMED = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", CHECKSUMMED)
def test_canonical_address_is_eip55_from_any_case(evm, address):
    for spelling in (address, "0x" + address[2:].lower(), "0x" + address[2:].upper()):
        assert evm.canonical_address(CHAIN, spelling) == address


@pytest.mark.parametrize(
    "address",
    [
        "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # one letter's case flipped
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0",
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
        " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "",
    ],
)
def test_canonical_address_rejects(evm, address):
    with pytest.raises(ChainError) as error:
        evm.canonical_address(CHAIN, address)
    assert_code(error, "invalid_address", "address")


@pytest.mark.parametrize("reference", ["0", "01", "-1", "1.0", "0x1", "1" * 33, ""])
def test_canonical_chain_rejects(evm, reference):
    with pytest.raises(ChainError) as error:
        evm.canonical_chain(reference)
    assert_code(error, "unsupported_chain", "chain")


def test_accepts_recovery_id_v_as_0_or_1(evm, evm_wallet):
    signature = bytes.fromhex(sign(evm_wallet, "gm")[2:])
    bare = signature[:64] + bytes([signature[64] - 27])
    evm.verify(
        chain=CHAIN,
        address=evm_wallet.address,
        message="gm",
        signature="0x" + bare.hex(),
        public_key=None,
    )


@pytest.mark.parametrize(
    "signature",
    [
        lambda s: s[2:],  # no 0x
        lambda s: s[:-2],  # 64 bytes
        lambda s: s + "00",  # 66 bytes
        lambda s: s[:-2] + "1d",  # v = 29
        lambda s: s[:-2] + "25",  # an EIP-155 style v
        lambda s: s[:10] + "zz" + s[12:],
        lambda s: s[:10] + " " + s[11:],
        lambda s: "0x",
        lambda s: "0x" + "00" * 65,
        lambda s: "0x" + "ff" * 65,
        lambda s: "0x" + "00" * 20000,
    ],
)
def test_rejects_malformed_signatures(evm, evm_wallet, signature):
    bad = signature(sign(evm_wallet, "gm"))
    with pytest.raises(ChainError) as error:
        evm.verify(
            chain=CHAIN, address=evm_wallet.address, message="gm", signature=bad, public_key=None
        )
    assert_code(error, "invalid_signature", "signature")


def test_rejects_a_tampered_message_or_another_key(evm, evm_wallet):
    message = evm.build_message(make_challenge(evm_wallet.address))
    signature = sign(evm_wallet, message)
    for text, address in [
        (message.replace("Nonce: q3V9", "Nonce: q3V8"), evm_wallet.address),
        (message, Account.create().address),
        (message + " ", evm_wallet.address),
    ]:
        with pytest.raises(ChainError) as error:
            evm.verify(
                chain=CHAIN, address=address, message=text, signature=signature, public_key=None
            )
        assert_code(error, "invalid_signature", "signature")


def test_imports_web3_only_for_contract_wallets(evm_wallet):
    # web3 takes over a second to import; EOA sign-in must never pay for it.
    script = f"""
import sys
from eth_account import Account
from eth_account.messages import encode_defunct
from wallets.chains import family_for_chain
family, chain = family_for_chain("eip155:1")
key = bytes.fromhex("{evm_wallet.key.hex().removeprefix("0x")}")
signature = Account.sign_message(encode_defunct(text="gm"), key).signature.to_0x_hex()
family.verify(chain=chain, address="{evm_wallet.address}", message="gm",
              signature=signature, public_key=None)
assert "web3" not in sys.modules, "web3 was imported"
"""
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", script], cwd=root, check=True, env={"PYTHONPATH": str(root)}
    )


# --- Contract wallets (tests/wallets/contracts.py) ---------------------------------


@pytest.fixture(scope="module")
def chain():
    web3 = local_chain()
    web3.factory = web3.deploy(init_code(FACTORY_RUNTIME))
    return web3


@pytest.fixture
def contract_evm(chain) -> tuple[EvmFamily, str]:
    return EvmFamily(rpc={chain.eth.chain_id: chain.provider}), f"eip155:{chain.eth.chain_id}"


def counterfactual(chain, owner: str) -> tuple[str, bytes]:
    code = init_code(wallet_runtime(owner))
    seed = b"\xff" + bytes.fromhex(chain.factory[2:]) + bytes(32) + keccak(code)
    return checksum_address("0x" + keccak(seed)[12:].hex()), code


def wrap_6492(factory: str, factory_call: bytes, signature: str) -> str:
    inner = bytes.fromhex(signature[2:])
    wrapped = abi_encode(["address", "bytes", "bytes"], [factory, factory_call, inner])
    return "0x" + (wrapped + ERC6492_SUFFIX).hex()


def check(family: EvmFamily, chain_id: str, address: str, signature: str) -> str | None:
    try:
        family.verify(
            chain=chain_id, address=address, message="gm", signature=signature, public_key=None
        )
    except ChainError as error:
        return error.code
    return None


def test_erc1271_deployed_contract_wallet(chain, contract_evm, evm_wallet):
    family, chain_id = contract_evm
    wallet = chain.deploy(init_code(wallet_runtime(evm_wallet.address)))
    stranger = Account.create()
    assert check(family, chain_id, wallet, sign(evm_wallet, "gm")) is None
    assert check(family, chain_id, wallet, sign(stranger, "gm")) == "invalid_signature"
    assert check(family, chain_id, wallet, sign(evm_wallet, "gm") + "00") == "invalid_signature"
    # An EOA with no code answers nothing: invalid, not an error.
    assert check(family, chain_id, stranger.address, sign(evm_wallet, "gm")) == "invalid_signature"
    # Without an RPC endpoint for the chain, only EOAs can sign in.
    assert check(EvmFamily(), chain_id, wallet, sign(evm_wallet, "gm")) == "invalid_signature"


def test_erc6492_counterfactual_wallet(chain, contract_evm, evm_wallet):
    family, chain_id = contract_evm
    wallet, code = counterfactual(chain, evm_wallet.address)
    assert chain.eth.get_code(wallet) == b""
    good = wrap_6492(chain.factory, code, sign(evm_wallet, "gm"))
    assert check(family, chain_id, wallet, good) is None
    assert chain.eth.get_code(wallet) == b"", "verification must not deploy anything"
    bad_key = wrap_6492(chain.factory, code, sign(Account.create(), "gm"))
    assert check(family, chain_id, wallet, bad_key) == "invalid_signature"
    # The factory deploys some other wallet: nothing answers at this address.
    other_code = init_code(wallet_runtime(Account.create().address))
    elsewhere = wrap_6492(chain.factory, other_code, sign(evm_wallet, "gm"))
    assert check(family, chain_id, wallet, elsewhere) == "invalid_signature"
    garbage = "0x" + (b"\x01" * 40 + ERC6492_SUFFIX).hex()
    assert check(family, chain_id, wallet, garbage) == "invalid_signature"
    assert check(EvmFamily(), chain_id, wallet, good) == "invalid_signature"


def test_erc6492_signature_of_a_wallet_deployed_since(chain, contract_evm, evm_wallet):
    family, chain_id = contract_evm
    wallet, code = counterfactual(chain, evm_wallet.address)
    chain.eth.send_transaction({"from": chain.eth.accounts[0], "to": chain.factory, "data": code})
    assert chain.eth.get_code(wallet) != b""
    # The factory call now fails (already deployed), and the live code decides;
    # a refusal also takes the EIP's second, "prepare" attempt.
    good = wrap_6492(chain.factory, code, sign(evm_wallet, "gm"))
    bad_key = wrap_6492(chain.factory, code, sign(Account.create(), "gm"))
    assert check(family, chain_id, wallet, good) is None
    assert check(family, chain_id, wallet, bad_key) == "invalid_signature"


def test_rpc_for_another_chain_or_down_is_service_unavailable(chain, evm_wallet):
    wallet = chain.deploy(init_code(wallet_runtime(evm_wallet.address)))
    mislabelled = EvmFamily(rpc={1: chain.provider})
    assert check(mislabelled, "eip155:1", wallet, sign(evm_wallet, "gm")) == "service_unavailable"
    down = EvmFamily(rpc={"1": "http://127.0.0.1:9"}, timeout=1)
    assert check(down, "eip155:1", wallet, sign(evm_wallet, "gm")) == "service_unavailable"
    # An EOA signature never needs the RPC, even when one is configured and down.
    assert check(down, "eip155:1", evm_wallet.address, sign(evm_wallet, "gm")) is None


def test_high_s_twin_is_refused_even_with_an_rpc(chain, contract_evm, evm_wallet):
    """s -> n - s with v flipped recovers the same key; as ethers, the key's proof
    is the low-s signature only. With an RPC the twin is put to the address's code,
    and an EOA has none."""
    family, chain_id = contract_evm
    good = bytes.fromhex(sign(evm_wallet, "gm")[2:])
    s = int.from_bytes(good[32:64], "big")
    twin = good[:32] + (N - s).to_bytes(32, "big") + bytes([55 - good[64]])  # v: 27 <-> 28
    assert recover_address("gm", twin) == evm_wallet.address  # the malleability itself
    for verifier, chain_ref in ((EvmFamily(), CHAIN), (family, chain_id)):
        with pytest.raises(ChainError) as error:
            verifier.verify(
                chain=chain_ref, address=evm_wallet.address, message="gm",
                signature="0x" + twin.hex(), public_key=None,
            )  # fmt: skip
        assert_code(error, "invalid_signature", "signature")
        assert "High-s" in error.value.message
    assert family.verify(
        chain=chain_id, address=evm_wallet.address, message="gm",
        signature="0x" + good.hex(), public_key=None,
    ) is None  # fmt: skip


def test_a_contract_proof_is_bound_to_its_chain(chain, contract_evm, evm_wallet):
    family, chain_id = contract_evm
    wallet = chain.deploy(init_code(wallet_runtime(evm_wallet.address)))
    bound = family.verify(
        chain=chain_id, address=wallet, message="gm", signature=sign(evm_wallet, "gm"),
        public_key=None,
    )  # fmt: skip
    assert bound == chain_id
