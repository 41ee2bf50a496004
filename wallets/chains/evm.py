"""EVM chains (CAIP-2 "eip155"): Sign-In with Ethereum (EIP-4361) over personal_sign.

An externally owned account is checked by EIP-191 recovery with libsecp256k1
(coincurve), as eth-account does with its coincurve backend, but without
importing eth-account: ~23 MiB of modules in every worker for one function
call. When recovery does not give the address and an RPC endpoint is
configured for the chain, the address may be a contract wallet: EIP-1271
`isValidSignature`, or for a wallet not deployed yet, EIP-6492.
web3 is imported only on that path; it is heavy and EOAs never need it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

from coincurve import PublicKey as Secp256k1PublicKey
from eth_hash.auto import keccak

from config.patterns import request_pattern
from wallets.chains.base import (
    INVALID_ADDRESS,
    INVALID_SIGNATURE,
    SERVICE_UNAVAILABLE,
    UNSUPPORTED_CHAIN,
    ChainError,
    PublicKey,
    SignInFormat,
    SignInTextFamily,
)

logger = logging.getLogger(__name__)

ERC1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes) selector
ERC6492_SUFFIX = bytes.fromhex("64926492" * 8)
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_MAX_SIGNATURE_BYTES = 16 * 1024  # multisig and 6492 wrappers are long, not unbounded
_ADDRESS = request_pattern("evm.address", r"0x[0-9a-fA-F]{40}", attacks=("0x", "0"))
_CHAIN_ID = request_pattern("evm.chain_id", r"[1-9][0-9]{0,31}", attacks=("1",))
_HEX = request_pattern("evm.hex", r"[0-9a-fA-F]+", attacks=("a",))


_DOES_NOT_VERIFY = "The signature does not verify."
_HIGH_S = "High-s signatures are not accepted (malleable): sign again."


def _invalid_signature(message: str = _DOES_NOT_VERIFY) -> ChainError:
    return ChainError(INVALID_SIGNATURE, message, param="signature")


def checksum_address(address: str) -> str:
    """EIP-55: uppercase each hex letter whose nibble in keccak(lowercase hex) is >= 8."""
    body = address[2:].lower()
    digest = keccak(body.encode()).hex()
    pairs = zip(body, digest[:40], strict=True)
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in pairs)


def eip191_hash(message: str) -> bytes:
    """The digest personal_sign signs, which EIP-1271 contracts are asked about."""
    data = message.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def _decode_signature(signature: str) -> bytes:
    if not isinstance(signature, str) or not signature.startswith("0x"):
        raise _invalid_signature("The signature must be 0x-prefixed hex.")
    digits = signature[2:]
    if not _HEX.fullmatch(digits) or len(digits) % 2:
        raise _invalid_signature("The signature must be 0x-prefixed hex.")
    if len(digits) > 2 * _MAX_SIGNATURE_BYTES:
        raise _invalid_signature("The signature is too long.")
    return bytes.fromhex(digits)


def recover_address(message: str, signature: bytes) -> str | None:
    """The EIP-55 address whose key made this 65-byte personal_sign signature, if any."""
    v = signature[64]
    if v in (27, 28):
        v -= 27
    elif v not in (0, 1):  # some wallets and hardware signers return the bare recovery id
        return None
    try:
        key = Secp256k1PublicKey.from_signature_and_message(
            signature[:64] + bytes([v]), eip191_hash(message), hasher=None
        )
    except ValueError:  # r or s out of range, or no point to recover
        return None
    return checksum_address("0x" + keccak(key.format(compressed=False)[1:])[-20:].hex())


class EvmFamily(SignInTextFamily):
    namespace = "eip155"
    text_format = SignInFormat(label="Ethereum", allow_scheme=True)

    def __init__(self, rpc: Mapping[int | str, Any] | None = None, *, timeout: float = 5.0):
        """`rpc`: chain id -> RPC URL, web3 provider or Web3 instance (contract wallets)."""
        self._rpc = {int(chain_id): target for chain_id, target in (rpc or {}).items()}
        self._timeout = timeout
        self._web3: dict[int, Any] = {}

    def canonical_chain(self, reference: str) -> str:
        if not _CHAIN_ID.fullmatch(reference):
            raise ChainError(
                UNSUPPORTED_CHAIN,
                "An eip155 chain reference is a decimal chain id without leading zeros.",
                param="chain",
            )
        return f"eip155:{reference}"

    def canonical_address(self, chain: str, address: str) -> str:
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise ChainError(
                INVALID_ADDRESS, "An EVM address is 0x and 40 hex digits.", param="address"
            )
        checksummed = checksum_address(address)
        body = address[2:]
        if body not in (body.lower(), body.upper()) and address != checksummed:
            raise ChainError(
                INVALID_ADDRESS, "The address fails its EIP-55 checksum.", param="address"
            )
        return checksummed

    def verify(
        self,
        *,
        chain: str,
        address: str,
        message: str,
        signature: str,
        public_key: PublicKey = None,  # the address is the key's hash: nothing to add
    ) -> str | None:
        """None for a key's signature (one wallet on every EVM chain); `chain` for
        a contract wallet's, whose ownership holds on this chain only."""
        expected = self.canonical_address(chain, address)
        raw = _decode_signature(signature)
        counterfactual = raw.endswith(ERC6492_SUFFIX)
        # A key's signature is canonical (low s, EIP-2), as ethers insists: the
        # high-s twin of a signature recovers the same key but is never a key's
        # proof here. A contract wallet judges its own signature bytes.
        high_s = len(raw) == 65 and int.from_bytes(raw[32:64], "big") > SECP256K1_HALF_ORDER
        refusal = _HIGH_S if high_s else _DOES_NOT_VERIFY
        key_signed = len(raw) == 65 and not (counterfactual or high_s)
        if key_signed and recover_address(message, raw) == expected:
            return None
        reference = chain.partition(":")[2]
        self.canonical_chain(reference)
        chain_id = int(reference)
        if chain_id not in self._rpc:
            raise _invalid_signature(refusal)
        web3 = self._client(chain_id)
        digest = eip191_hash(message)
        if counterfactual:
            valid = _erc6492_valid(web3, expected, digest, raw)
        else:
            valid = _erc1271_valid(web3, expected, digest, raw)
        if not valid:
            raise _invalid_signature(refusal)
        return chain

    def _client(self, chain_id: int) -> Any:
        if chain_id in self._web3:
            return self._web3[chain_id]
        from web3 import HTTPProvider, Web3

        target = self._rpc[chain_id]
        if isinstance(target, str):
            # No retries: a sign-in request must not hang on a dead node for minutes.
            target = HTTPProvider(
                target,
                request_kwargs={"timeout": self._timeout},
                exception_retry_configuration=None,
            )
        web3 = target if isinstance(target, Web3) else Web3(target)
        # EIP-4361: contract accounts MUST be resolved on the message's chain; a
        # mislabelled endpoint would check signatures against another chain's state.
        served = _rpc(lambda: web3.eth.chain_id)
        if served != chain_id:
            logger.error("The RPC endpoint for eip155:%s serves chain %s.", chain_id, served)
            raise ChainError(SERVICE_UNAVAILABLE, "The chain's RPC endpoint is misconfigured.")
        self._web3[chain_id] = web3
        return web3


# --- Contract wallets --------------------------------------------------------------


@cache
def _revert_errors() -> tuple[type[Exception], ...]:
    from web3.exceptions import ContractLogicError

    try:  # EthereumTesterProvider (an in-process chain) reports reverts its own way
        from eth_tester.exceptions import TransactionFailed
    except ImportError:
        return (ContractLogicError,)
    return (ContractLogicError, TransactionFailed)


def _rpc(call: Any) -> Any:
    """Run one RPC call; a revert is None, an unreachable node is service_unavailable."""
    try:
        return call()
    except _revert_errors():
        return None
    except Exception as error:
        logger.warning("EVM RPC call failed: %r", error)
        raise ChainError(
            SERVICE_UNAVAILABLE, "The chain's RPC endpoint did not answer; try again."
        ) from error


def _is_valid_signature_call(digest: bytes, signature: bytes) -> bytes:
    """ABI call data for isValidSignature(bytes32 digest, bytes signature)."""
    padding = b"\x00" * (-len(signature) % 32)
    head = digest + (64).to_bytes(32, "big") + len(signature).to_bytes(32, "big")
    return ERC1271_MAGIC + head + signature + padding


def _erc1271_valid(web3: Any, address: str, digest: bytes, signature: bytes) -> bool:
    call = {"to": address, "data": _is_valid_signature_call(digest, signature)}
    result = _rpc(lambda: web3.eth.call(call))
    return result is not None and len(result) == 32 and bytes(result[:4]) == ERC1271_MAGIC


def _erc6492_valid(web3: Any, address: str, digest: bytes, signature: bytes) -> bool:
    """EIP-6492: simulate the factory call then isValidSignature in one deploy-less eth_call.

    First the factory is called only when the wallet has no code (deployment);
    if that fails, once more unconditionally: the EIP's "prepare" retry, for a
    deployed wallet that needs a migration call before it can validate.
    """
    from eth_abi import decode

    try:
        factory, factory_call, inner = decode(["address", "bytes", "bytes"], signature[:-32])
    except Exception:
        return False
    validation = _is_valid_signature_call(digest, inner)
    for force in (0, 1):
        args = b"".join(
            [
                bytes.fromhex(address[2:]).rjust(32, b"\x00"),
                bytes.fromhex(factory[2:]).rjust(32, b"\x00"),
                force.to_bytes(32, "big"),
                len(factory_call).to_bytes(32, "big"),
                len(validation).to_bytes(32, "big"),
                factory_call,
                validation,
            ]
        )
        result = _rpc(lambda args=args: web3.eth.call({"data": VALIDATOR_INITCODE + args}))
        if result is not None and bytes(result) == b"\x01":
            return True
    return False


_OPCODES = {
    "ADD": 0x01, "SUB": 0x03, "EQ": 0x14, "ISZERO": 0x15, "OR": 0x17, "SHL": 0x1B,
    "SHR": 0x1C, "CALLDATALOAD": 0x35, "CALLDATASIZE": 0x36, "CALLDATACOPY": 0x37,
    "CODESIZE": 0x38, "CODECOPY": 0x39, "EXTCODESIZE": 0x3B, "RETURNDATACOPY": 0x3E,
    "POP": 0x50, "MLOAD": 0x51, "MSTORE": 0x52, "JUMPI": 0x57, "GAS": 0x5A,
    "DUP1": 0x80, "SWAP1": 0x90, "CREATE2": 0xF5, "CALL": 0xF1, "RETURN": 0xF3,
    "STATICCALL": 0xFA, "REVERT": 0xFD,
}  # fmt: skip


def assemble(source: str) -> bytes:
    """A tiny EVM assembler, enough for the validator below and the tests' contracts.

    Tokens: opcode names; `0x..` literals (PUSHn, n = the literal's byte count);
    `@label` (PUSH2 of the label's offset); `label:` (a JUMPDEST); `label::` (an
    offset only, e.g. the end of the code). `;` starts a comment.
    """
    tokens = [t for line in source.splitlines() for t in line.partition(";")[0].split()]
    labels: dict[str, int] = {}
    for emit in (False, True):  # pass one sizes the code and places labels
        code = bytearray()
        for token in tokens:
            if token.endswith("::"):
                labels[token[:-2]] = len(code)
            elif token.endswith(":"):
                labels[token[:-1]] = len(code)
                code.append(0x5B)
            elif token.startswith("@"):
                code += b"\x61" + (labels.get(token[1:], 0) if emit else 0).to_bytes(2, "big")
            elif token.startswith("0x"):
                data = bytes.fromhex(token[2:])
                code += bytes([0x5F + len(data)]) + data
            else:
                code.append(_OPCODES[token])
    return bytes(code)


# Init code run by eth_call without a `to`: nothing is ever deployed. The caller
# appends signer | factory | force | len(factory call) | len(validation call)
# (32-byte words), then both call data. It returns one byte: 0x01 when the
# signer's isValidSignature answered the magic value, 0x00 otherwise; it
# reverts when the signer has no code or the call fails.
VALIDATOR_INITCODE = assemble("""
    @end DUP1 CODESIZE SUB SWAP1 0x00 CODECOPY        ; memory[0:] = the arguments
    0x00 MLOAD EXTCODESIZE ISZERO 0x40 MLOAD OR       ; no code yet, or forced?
    ISZERO @validate JUMPI
    0x00 0x00 0x60 MLOAD 0xa0 0x00 0x20 MLOAD GAS CALL POP  ; factory call; outcome checked below
validate:
    0x00 0x00 0x80 MLOAD 0x60 MLOAD 0xa0 ADD 0x00 MLOAD GAS STATICCALL
    ISZERO @fail JUMPI
    0x20 0x00 0x00 RETURNDATACOPY                     ; reverts when fewer than 32 bytes came back
    0x00 MLOAD 0xe0 SHR 0x1626ba7e EQ 0x00 MSTORE
    0x01 0x1f RETURN
fail:
    0x00 0x00 REVERT
end::
""")
