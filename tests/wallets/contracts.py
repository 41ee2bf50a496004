"""Contract wallets on in-process EVM chains (py-evm through web3's
EthereumTesterProvider), for the EIP-1271/6492 tests.

The wallet answers isValidSignature(hash, sig) with the EIP-1271 magic value iff
`sig` is 65 bytes and ecrecover(hash, sig) is its owner, baked into the code;
otherwise 0xffffffff. The factory CREATE2s whatever init code it is called with
(salt 0), so a wallet's counterfactual address is known before deployment.
"""

from __future__ import annotations

from typing import Any

from wallets.chains.evm import assemble


def wallet_runtime(owner: str) -> bytes:
    return assemble(f"""
        0x24 CALLDATALOAD 0x04 ADD                      ; where the signature's length sits
        DUP1 CALLDATALOAD 0x41 EQ ISZERO @reject JUMPI  ; 65 bytes or reject
        0x04 CALLDATALOAD 0x00 MSTORE                   ; ecrecover(hash, v, r, s) input
        DUP1 0x20 ADD CALLDATALOAD 0x40 MSTORE
        DUP1 0x40 ADD CALLDATALOAD 0x60 MSTORE
        0x60 ADD CALLDATALOAD 0xf8 SHR 0x20 MSTORE
        0x20 0x80 0x80 0x00 0x01 GAS STATICCALL POP
        0x80 MLOAD {owner} EQ ISZERO @reject JUMPI
        0x1626ba7e 0xe0 SHL 0x00 MSTORE 0x20 0x00 RETURN
    reject:
        0xffffffff 0xe0 SHL 0x00 MSTORE 0x20 0x00 RETURN
    """)


def init_code(runtime: bytes) -> bytes:
    """Constructor that returns `runtime`: copy the code after its 12 bytes, return it."""
    return assemble(f"0x{len(runtime):04x} DUP1 0x0c 0x00 CODECOPY 0x00 RETURN") + runtime


FACTORY_RUNTIME = assemble("""
    CALLDATASIZE 0x00 0x00 CALLDATACOPY
    0x00 CALLDATASIZE 0x00 0x00 CREATE2 0x00 MSTORE 0x20 0x00 RETURN
""")


def local_chain(chain_id: int | None = None) -> Any:
    """A fresh in-process chain as a Web3 instance with `deploy(code) -> address`.

    eth-tester serves one fixed chain id; `chain_id` makes it another chain
    (its transactions and its eth_chainId answer), so two instances are two
    chains, as two RPC endpoints of WALLET_EVM_RPC_URLS are.
    """
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3
    from web3.providers.eth_tester.defaults import API_ENDPOINTS

    backend = PyEVMBackend()
    endpoints = API_ENDPOINTS
    if chain_id is not None:
        backend.chain.chain_id = chain_id
        endpoints = {
            **API_ENDPOINTS,
            "eth": {**API_ENDPOINTS["eth"], "chainId": lambda *a: chain_id},
        }
    web3 = Web3(EthereumTesterProvider(EthereumTester(backend), api_endpoints=endpoints))

    def deploy(code: bytes) -> str:
        tx = web3.eth.send_transaction({"from": web3.eth.accounts[0], "data": code})
        return web3.eth.get_transaction_receipt(tx)["contractAddress"]

    web3.deploy = deploy
    return web3
