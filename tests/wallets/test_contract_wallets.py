"""Contract wallets over HTTP: ownership proven by EIP-1271/6492 holds on one chain.

Two in-process EVM chains (eip155:1 and eip155:137) stand for the two RPC
endpoints of WALLET_EVM_RPC_URLS. The same deployer at the same nonce puts
contract X at the same address on both, owned by Alice on chain 1 and by Bob
on chain 137: the cross-chain takeover this file is about (issue 9, item 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.db import IntegrityError, transaction
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from accounts.models import User
from tests.wallets.contracts import FACTORY_RUNTIME, init_code, local_chain, wallet_runtime
from tests.wallets.helpers import WALLETS, error, issue, sign_in, verify, without_messages
from wallets import chains
from wallets.chains.evm import ERC6492_SUFFIX, EvmFamily, checksum_address
from wallets.models import Wallet


@dataclass
class ContractWallet:
    """A contract account on one chain; its owner's key signs for it (EIP-1271)."""

    chain: str
    address: str
    owner: object
    public_key = None

    def sign(self, message: str) -> str:
        return self.owner.sign_message(encode_defunct(text=message)).signature.to_0x_hex()


@pytest.fixture(scope="module")
def two_chains():
    return {1: local_chain(1), 137: local_chain(137)}


@pytest.fixture
def rpc(two_chains):
    """The server's EVM family with an RPC endpoint per chain, as apps.py builds
    it from WALLET_EVM_RPC_URLS; the default one back afterwards."""
    default = chains.get_family("eip155")
    chains.register(EvmFamily(rpc={cid: web3.provider for cid, web3 in two_chains.items()}))
    yield two_chains
    chains.register(default)


def same_address_two_owners(two_chains) -> tuple[str, object, object]:
    """Contract X at one address on both chains: Alice's on 1, Bob's on 137."""
    alice, bob = Account.create(), Account.create()
    deployer = two_chains[1].eth.accounts[0]
    nonces = {cid: web3.eth.get_transaction_count(deployer) for cid, web3 in two_chains.items()}
    while nonces[1] != nonces[137]:  # line the deployer's nonces up (earlier tests deploy too)
        behind = min(nonces, key=nonces.get)
        two_chains[behind].deploy(b"\x00")
        nonces[behind] += 1
    on_1 = two_chains[1].deploy(init_code(wallet_runtime(alice.address)))
    on_137 = two_chains[137].deploy(init_code(wallet_runtime(bob.address)))
    assert on_1 == on_137
    return on_1, alice, bob


def test_a_contract_owned_by_another_on_another_chain_is_not_the_same_wallet(
    rpc, headless, make_headless
):
    x, alice, bob = same_address_two_owners(rpc)
    alices = sign_in(headless, ContractWallet("eip155:1", x, alice))
    assert alices.status_code == HTTPStatus.OK, alices.content
    alice_id = alices.json()["data"]["user"]["id"]

    # The attack: Bob proves X on chain 137, where X is his.
    bobs = sign_in(make_headless(), ContractWallet("eip155:137", x, bob))
    assert bobs.status_code == HTTPStatus.OK, bobs.content
    bob_user = bobs.json()["data"]["user"]
    assert bob_user["id"] != alice_id, "Bob was signed in as Alice"
    assert [(w["chain"], w["address"]) for w in bob_user["wallets"]] == [("eip155:137", x)]
    assert User.objects.count() == 2
    assert set(Wallet.objects.values_list("user_id", "bound_chain")) == {
        (alice_id, "eip155:1"),
        (bob_user["id"], "eip155:137"),
    }

    # Alice's account is still Alice's, and only on chain 1.
    again = sign_in(make_headless(), ContractWallet("eip155:1", x, alice))
    assert again.json()["data"]["user"]["id"] == alice_id
    assert again.json()["data"]["user"]["wallets"][0]["chain"] == "eip155:1"
    # Bob's key does not answer for X on chain 1, Alice's not on 137.
    for chain, signer in (("eip155:1", bob), ("eip155:137", alice)):
        wallet = ContractWallet(chain, x, signer)
        response = sign_in(make_headless(), wallet)
        assert without_messages(response.json()) == error(400, "invalid_signature", "signature")


def test_linking_a_contract_wallet_binds_it_to_its_chain(rpc, logged_in, make_headless):
    x, alice, bob = same_address_two_owners(rpc)
    alice_wallet = ContractWallet("eip155:1", x, alice)
    linked = sign_in(logged_in, alice_wallet, process="connect")
    assert linked.status_code == HTTPStatus.OK, linked.content
    # Bob may sign in with his X on 137: not wallet_already_linked, not Alice's account.
    bobs = sign_in(make_headless(), ContractWallet("eip155:137", x, bob))
    assert bobs.status_code == HTTPStatus.OK, bobs.content
    alice_id = logged_in.get("/auth/session").json()["data"]["user"]["id"]
    assert bobs.json()["data"]["user"]["id"] != alice_id
    assert Wallet.objects.get(user__email="alice@example.com").bound_chain == "eip155:1"


def test_an_eoa_is_still_one_wallet_on_every_chain(rpc, headless, make_headless, evm_wallet):
    first = sign_in(headless, evm_wallet).json()["data"]["user"]["id"]
    evm_wallet.chain = "eip155:137"
    assert sign_in(make_headless(), evm_wallet).json()["data"]["user"]["id"] == first
    assert Wallet.objects.get().bound_chain == ""


def test_counterfactual_wallet_is_bound_to_the_chain_it_was_proven_on(rpc, headless):
    owner = Account.create()
    web3 = rpc[137]
    factory = web3.deploy(init_code(FACTORY_RUNTIME))
    code = init_code(wallet_runtime(owner.address))
    seed = b"\xff" + bytes.fromhex(factory[2:]) + bytes(32) + keccak(code)
    address = checksum_address("0x" + keccak(seed)[12:].hex())
    wallet = ContractWallet("eip155:137", address, owner)
    message = issue(headless, wallet)["message"]
    inner = bytes.fromhex(wallet.sign(message)[2:])
    wrapped = abi_encode(["address", "bytes", "bytes"], [factory, code, inner]) + ERC6492_SUFFIX
    response = verify(headless, wallet, message, signature="0x" + wrapped.hex())
    assert response.status_code == HTTPStatus.OK, response.content
    assert Wallet.objects.get().bound_chain == "eip155:137"


def test_unlink_names_a_contract_wallet_by_its_chain(rpc, logged_in):
    x, alice, _bob = same_address_two_owners(rpc)
    linked = sign_in(logged_in, ContractWallet("eip155:1", x, alice), "connect")
    assert linked.status_code == HTTPStatus.OK, linked.content
    # X on chain 137 is not a wallet of this account (it is Bob's contract there).
    response = logged_in.delete(WALLETS, {"chain": "eip155:137", "address": x})
    assert without_messages(response.json()) == error(404, "not_found", "address")
    response = logged_in.delete(WALLETS, {"chain": "eip155:1", "address": x})
    assert response.status_code == HTTPStatus.OK, response.content
    assert not Wallet.objects.exists()


@pytest.mark.django_db
def test_the_database_holds_one_wallet_per_key_address_and_per_contract_chain(user_factory):
    alice, bob = user_factory("alice@example.com"), user_factory("bob@example.com")
    address = Account.create().address

    def add(user, chain: str, bound: str = "") -> Wallet:
        return Wallet.objects.create(
            user=user, namespace="eip155", chain=chain, address=address, bound_chain=bound
        )

    add(alice, "eip155:1", "eip155:1")
    add(bob, "eip155:137", "eip155:137")  # the same address, another chain: another wallet
    add(bob, "eip155:10")  # and the key's wallet, one for every chain
    for user, chain, bound in (
        (bob, "eip155:1", "eip155:1"),  # a second owner of X on chain 1
        (alice, "eip155:5", ""),  # a second key wallet of the address
        (alice, "eip155:5", "eip155:1"),  # a chain-1 wallet used on chain 5
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            add(user, chain, bound)


def test_a_contract_wallet_reauthenticates_only_on_its_own_chain(rpc, headless):
    """Alice's account is X on chain 1. A thief holding her (stale) token who
    controls X on chain 137 cannot step up with it: that is another wallet."""
    from tests.accounts.helpers import age_authentication

    x, alice, bob = same_address_two_owners(rpc)
    assert sign_in(headless, ContractWallet("eip155:1", x, alice)).status_code == HTTPStatus.OK
    age_authentication(headless, 3600)
    thief = ContractWallet("eip155:137", x, bob)
    response = headless.post(
        "/auth/wallet/challenge", {"chain": thief.chain, "address": x, "process": "reauthenticate"}
    )
    assert without_messages(response.json()) == error(404, "not_found", "address")
    # Alice herself, on X's own chain, steps up.
    response = sign_in(headless, ContractWallet("eip155:1", x, alice), "reauthenticate")
    assert response.status_code == HTTPStatus.OK, response.content
