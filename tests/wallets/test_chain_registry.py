"""The CAIP-2 registry: resolving chain ids to families, and adding a family."""

from __future__ import annotations

import pytest

import wallets.chains as chains
from wallets.chains import ChainError, family_for_chain, get_family, namespaces, register
from wallets.chains.cosmos import CosmosFamily
from wallets.chains.evm import EvmFamily
from wallets.chains.solana import SolanaFamily


@pytest.mark.parametrize(
    ("chain", "family", "canonical"),
    [
        ("eip155:1", EvmFamily, "eip155:1"),
        ("eip155:8453", EvmFamily, "eip155:8453"),
        ("solana:mainnet", SolanaFamily, "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
        ("solana:devnet", SolanaFamily, "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
        ("solana:testnet", SolanaFamily, "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"),
        (
            "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
            SolanaFamily,
            "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
        ),
        ("cosmos:cosmoshub-4", CosmosFamily, "cosmos:cosmoshub-4"),
        ("cosmos:evmos_9001-2", CosmosFamily, "cosmos:evmos_9001-2"),
    ],
)
def test_family_for_chain(chain, family, canonical):
    found, canonical_id = family_for_chain(chain)
    assert isinstance(found, family)
    assert canonical_id == canonical
    assert get_family(chain.partition(":")[0]) is found


@pytest.mark.parametrize(
    "chain",
    [
        "",
        "eip155",
        "eip155:",
        ":1",
        "eip155:1:2",
        "EIP155:1",
        "eip155:01",
        "eip155:0x1",
        "bip122:000000000019d6689c085ae165831e93",
        "solana:localnet",
        "cosmos:" + "x" * 33,
        " eip155:1",
        "eip155:1\n",
        None,
    ],
)
def test_unsupported_or_malformed_chains(chain):
    with pytest.raises(ChainError) as error:
        family_for_chain(chain)
    assert (error.value.code, error.value.param) == ("unsupported_chain", "chain")
    assert error.value.message


def test_get_family_unknown_namespace():
    with pytest.raises(ChainError) as error:
        get_family("tezos")
    assert error.value.code == "unsupported_chain"


def test_registering_a_family_is_one_call(monkeypatch):
    monkeypatch.setattr(chains, "_families", dict(chains._families))

    class TezosFamily(SolanaFamily):  # any ChainFamily; reuse one for brevity
        namespace = "tezos"

        def canonical_chain(self, reference: str) -> str:
            return f"tezos:{reference}"

    register(TezosFamily())
    assert namespaces() == ("eip155", "solana", "cosmos", "tezos")
    family, chain = family_for_chain("tezos:NetXdQprcVkpaWU")
    assert isinstance(family, TezosFamily) and chain == "tezos:NetXdQprcVkpaWU"


def test_register_replaces_a_namespace_with_a_configured_instance(monkeypatch):
    monkeypatch.setattr(chains, "_families", dict(chains._families))
    configured = EvmFamily(rpc={1: "http://127.0.0.1:8545"})
    register(configured)
    assert family_for_chain("eip155:1")[0] is configured


def test_chain_error_carries_code_message_param():
    error = ChainError("invalid_signature", param="signature")
    assert (error.code, error.param, str(error)) == (
        "invalid_signature",
        "signature",
        "Invalid signature.",
    )
    assert ChainError("invalid", "Bad.").param is None
