"""Chain families by CAIP-2 namespace: the only place that knows which exist.

Flows and views stay chain-agnostic: they resolve a CAIP-2 id with
`family_for_chain` and call the family's interface (see base.py).
Plain Python, no Django: the app config may `register()` a configured
instance over a default one, e.g. `EvmFamily(rpc=settings.WALLET_EVM_RPC_URLS)`.
"""

from __future__ import annotations

from config.patterns import request_pattern
from wallets.chains.base import (
    UNSUPPORTED_CHAIN,
    ChainError,
    ChainFamily,
    Challenge,
    MessageFields,
)
from wallets.chains.cosmos import CosmosFamily
from wallets.chains.evm import EvmFamily
from wallets.chains.solana import SolanaFamily

__all__ = [
    "ChainError",
    "ChainFamily",
    "Challenge",
    "MessageFields",
    "family_for_chain",
    "get_family",
    "namespaces",
    "register",
]

# CAIP-2: namespace [-a-z0-9]{3,8}, reference [-_a-zA-Z0-9]{1,32}.
_CAIP2 = request_pattern(
    "wallet.caip2", r"([-a-z0-9]{3,8}):([-_a-zA-Z0-9]{1,32})", attacks=("abc:", "a-")
)
_families: dict[str, ChainFamily] = {}


def register(family: ChainFamily) -> None:
    """Add a family, or replace the one registered for its namespace."""
    _families[family.namespace] = family


for _family in (EvmFamily(), SolanaFamily(), CosmosFamily()):  # a new family: one entry here
    register(_family)


def namespaces() -> tuple[str, ...]:
    return tuple(_families)


def get_family(namespace: str) -> ChainFamily:
    try:
        return _families[namespace]
    except KeyError:
        raise ChainError(
            UNSUPPORTED_CHAIN, f"Unsupported chain namespace {namespace!r}.", param="chain"
        ) from None


def family_for_chain(chain: str) -> tuple[ChainFamily, str]:
    """A CAIP-2 id -> (its family, the canonical id), e.g. "solana:mainnet" ->
    (SolanaFamily, "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")."""
    match = _CAIP2.fullmatch(chain) if isinstance(chain, str) else None
    if match is None:
        raise ChainError(
            UNSUPPORTED_CHAIN, "A chain is a CAIP-2 id such as eip155:1.", param="chain"
        )
    family = get_family(match[1])
    return family, family.canonical_chain(match[2])
