"""What this deployment accepts: chains (WALLET_CHAINS), domains (WALLET_DOMAINS).

WALLET_CHAINS holds CAIP-2 ids ("solana:mainnet", aliases allowed) and
namespace wildcards ("eip155:*": every chain id of the family).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accounts.errors import ApiError, Code
from wallets.chains import ChainError, ChainFamily, family_for_chain, get_family

WILDCARD = "*"
# The chain layer's codes equal the API's; only these change the HTTP status.
_STATUS_BY_CODE = {Code.SERVICE_UNAVAILABLE: 503}


@dataclass(frozen=True)
class ChainPolicy:
    chains: frozenset[str]  # canonical CAIP-2 ids
    namespaces: frozenset[str]  # families with every chain allowed

    def allows(self, family: ChainFamily, chain: str) -> bool:
        return family.namespace in self.namespaces or chain in self.chains


@cache
def _policy(configured: tuple[str, ...]) -> ChainPolicy:
    chains, namespaces = set(), set()
    for entry in configured:
        try:
            namespace, _, reference = entry.partition(":")
            if reference == WILDCARD:
                namespaces.add(get_family(namespace).namespace)
            else:
                chains.add(family_for_chain(entry)[1])
        except ChainError as error:
            raise ImproperlyConfigured(f"WALLET_CHAINS: {entry!r}: {error.message}") from None
    return ChainPolicy(frozenset(chains), frozenset(namespaces))


def chain_policy() -> ChainPolicy:
    return _policy(tuple(settings.WALLET_CHAINS))


def wallet_login_enabled() -> bool:
    return bool(settings.WALLET_CHAINS and settings.WALLET_DOMAINS)


@contextmanager
def chain_errors() -> Iterator[None]:
    """Turn the chain layer's refusals into API errors (400, or 503 for an RPC outage)."""
    try:
        yield
    except ChainError as error:
        status = _STATUS_BY_CODE.get(error.code, 400)
        raise ApiError(status, error.code, error.message, error.param) from None


def resolve_chain(chain: str, *, configured_only: bool = True) -> tuple[ChainFamily, str]:
    """The family and canonical CAIP-2 id; `unsupported_chain` unless configured."""
    with chain_errors():
        family, canonical = family_for_chain(chain)
    if configured_only and not chain_policy().allows(family, canonical):
        raise ApiError(
            400, Code.UNSUPPORTED_CHAIN, f"Sign-in on {chain} is not enabled here.", "chain"
        )
    return family, canonical


def resolve_domain(domain: str | None) -> str:
    """The requested domain if it is one of WALLET_DOMAINS; by default the first."""
    domains = settings.WALLET_DOMAINS
    if not domain:
        return domains[0]
    if domain not in domains:
        raise ApiError(
            400, Code.DOMAIN_MISMATCH, "This domain is not one the server signs in for.", "domain"
        )
    return domain
