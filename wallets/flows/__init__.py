"""Wallet sign-in, chain-agnostic: the flows call the chain family's interface
and never branch on which family it is.

- policy: which chains and domains are accepted, ChainError -> ApiError;
- challenge: issue a challenge, verify a signed one;
- wallets: sign in, link, unlink, list.
"""
