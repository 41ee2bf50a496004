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

    from tests.wallets.conftest import EvmWallet
    from wallets.chains.evm import EvmFamily

    evm, wallet = EvmFamily(), EvmWallet()
    message = evm.build_message(challenge(wallet.chain, wallet.address))
    signature = bytes.fromhex(wallet.sign(message).removeprefix("0x"))
    signable = encode_defunct(text=message)
    measure(
        "evm: eth-account recover_message",
        lambda: Account.recover_message(signable, signature=signature),
        seconds,
    )
    measure("evm: EvmFamily.verify (EOA)", family_verify(evm, wallet, message), seconds)
    measure("evm: parse_message", lambda: evm.parse_message(message), seconds)


def bench_solana(seconds: float) -> None:
    from tests.wallets.conftest import SolanaWallet
    from wallets.chains.solana import SolanaFamily

    solana, wallet = SolanaFamily(), SolanaWallet(chain="solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")
    message = solana.build_message(challenge(wallet.chain, wallet.address))
    raw = wallet.key.sign(message.encode()).signature
    measure(
        "solana: PyNaCl VerifyKey.verify",
        lambda: wallet.key.verify_key.verify(message.encode(), raw),
        seconds,
    )
    measure("solana: SolanaFamily.verify", family_verify(solana, wallet, message), seconds)


def bench_cosmos(seconds: float) -> None:
    from coincurve.ecdsa import cdata_to_der, deserialize_compact

    from tests.wallets.conftest import CosmosWallet, amino_sign_doc
    from wallets.chains.cosmos import CosmosFamily

    cosmos, wallet = CosmosFamily(), CosmosWallet()
    message = cosmos.build_message(challenge(wallet.chain, wallet.address))
    digest = hashlib.sha256(amino_sign_doc(wallet.address, message)).digest()
    der = cdata_to_der(deserialize_compact(base64.b64decode(wallet.sign(message))))
    measure(
        "cosmos: coincurve secp256k1 verify",
        lambda: wallet.key.public_key.verify(der, digest, hasher=None),
        seconds,
    )
    measure(
        "cosmos: CosmosFamily.verify (ADR-036)",
        family_verify(cosmos, wallet, message),
        seconds,
    )


def family_verify(family, wallet, message: str) -> Callable[[], None]:
    """The family's whole check of `message` signed the way its wallets sign
    (tests/wallets/conftest.py); signing and encoding stay outside the timing."""
    arguments = {
        "chain": wallet.chain,
        "address": wallet.address,
        "message": message,
        "signature": wallet.sign(message),
        "public_key": wallet.public_key,
    }
    return lambda: family.verify(**arguments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per run")
    seconds = parser.parse_args().seconds
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    for bench in (bench_evm, bench_solana, bench_cosmos):
        bench(seconds)


if __name__ == "__main__":
    main()
