"""Per-operation cost of wallet signature checks, in microseconds (run on demand).

    .venv/bin/python tests/benchmarks/bench_chains.py [--seconds 0.5]

Not collected by pytest (the name does not start with test_). Each line is the
best of five runs, to keep noise from other processes out.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path


def measure(name: str, op: Callable[[], object], seconds: float) -> None:
    op()  # warm caches and lazy imports
    timer = timeit.Timer(op)
    number, _ = timer.autorange()
    number = max(1, int(number * seconds / 0.2))
    best = min(timer.repeat(repeat=5, number=number)) / number
    print(f"{name:<48} {best * 1e6:10.1f} us")


def challenge(chain: str, address: str):
    from wallets.chains.base import Challenge

    now = datetime.now(UTC)
    return Challenge(
        chain=chain,
        address=address,
        domain="signet.example",
        uri="https://signet.example/login",
        nonce="Bench0mark1Nonce",
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        statement="Sign in to Signet.",
    )


def bench_evm(seconds: float) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    from wallets.chains.evm import EvmFamily

    evm, wallet = EvmFamily(), Account.create()
    message = evm.build_message(challenge("eip155:1", wallet.address))
    signable = encode_defunct(text=message)
    signature = wallet.sign_message(signable).signature
    hex_signature = signature.to_0x_hex()
    measure(
        "evm: eth-account recover_message",
        lambda: Account.recover_message(signable, signature=signature),
        seconds,
    )
    measure(
        "evm: EvmFamily.verify (EOA)",
        lambda: evm.verify(
            chain="eip155:1",
            address=wallet.address,
            message=message,
            signature=hex_signature,
            public_key=None,
        ),
        seconds,
    )
    measure("evm: parse_message", lambda: evm.parse_message(message), seconds)


def bench_solana(seconds: float) -> None:
    import base58
    from nacl.signing import SigningKey

    from wallets.chains.solana import SolanaFamily

    solana, key = SolanaFamily(), SigningKey.generate()
    address = base58.b58encode(bytes(key.verify_key)).decode()
    chain = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    message = solana.build_message(challenge(chain, address))
    raw = key.sign(message.encode()).signature
    signature = base58.b58encode(raw).decode()
    measure(
        "solana: PyNaCl VerifyKey.verify",
        lambda: key.verify_key.verify(message.encode(), raw),
        seconds,
    )
    measure(
        "solana: SolanaFamily.verify",
        lambda: solana.verify(
            chain=chain, address=address, message=message, signature=signature, public_key=None
        ),
        seconds,
    )


def bench_cosmos(seconds: float) -> None:
    import bech32
    from coincurve import PrivateKey
    from coincurve.ecdsa import cdata_to_der, deserialize_compact

    from wallets.chains.cosmos import CosmosFamily, adr036_sign_doc, ripemd160

    cosmos, key = CosmosFamily(), PrivateKey()
    account = ripemd160(hashlib.sha256(key.public_key.format()).digest())
    address = bech32.bech32_encode("cosmos", bech32.convertbits(account, 8, 5))
    message = cosmos.build_message(challenge("cosmos:cosmoshub-4", address))
    digest = hashlib.sha256(adr036_sign_doc(address, message)).digest()
    raw = key.sign_recoverable(digest, hasher=None)[:64]
    der = cdata_to_der(deserialize_compact(raw))
    public_key = base64.b64encode(key.public_key.format()).decode()
    signature = base64.b64encode(raw).decode()
    measure(
        "cosmos: coincurve secp256k1 verify",
        lambda: key.public_key.verify(der, digest, hasher=None),
        seconds,
    )
    measure(
        "cosmos: CosmosFamily.verify (ADR-036)",
        lambda: cosmos.verify(
            chain="cosmos:cosmoshub-4",
            address=address,
            message=message,
            signature=signature,
            public_key=public_key,
        ),
        seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per run")
    seconds = parser.parse_args().seconds
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    for bench in (bench_evm, bench_solana, bench_cosmos):
        bench(seconds)


if __name__ == "__main__":
    main()
