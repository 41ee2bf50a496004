"""Wallets linked to users.

A wallet a key owns is identified by (CAIP-2 namespace, canonical address): an
EVM address is one wallet on every EVM chain, so `chain` only records the chain
it was last used on. A contract wallet (EIP-1271/6492) is one wallet per chain:
its owners are whoever its code on that chain says, and the same address on
another chain may be another contract with other owners. `bound_chain` names
that chain. The database enforces that a wallet belongs to one user.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.userversions import UserDataQuerySet

# CAIP-2: namespace up to 8 characters, ":", reference up to 32.
CHAIN_MAX_LENGTH = 41
NAMESPACE_MAX_LENGTH = 8
# CAIP-10 account addresses are at most 128 characters.
ADDRESS_MAX_LENGTH = 128


class Wallet(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallets"
    )
    namespace = models.CharField("chain family", max_length=NAMESPACE_MAX_LENGTH)
    chain = models.CharField(
        max_length=CHAIN_MAX_LENGTH, help_text="CAIP-2 id of the chain it was last used on."
    )
    address = models.CharField(max_length=ADDRESS_MAX_LENGTH, help_text="Canonical form.")
    bound_chain = models.CharField(
        max_length=CHAIN_MAX_LENGTH,
        blank=True,
        default="",
        help_text="A contract wallet's chain (CAIP-2), the only one it signs in on; "
        "empty for a key's address, one wallet on every chain of its family.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)

    # The user's cached payload lists its wallets: update() must bump it too.
    objects = UserDataQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "address"],
                condition=Q(bound_chain=""),
                name="wallet_key_address_unique",
            ),
            models.UniqueConstraint(
                fields=["namespace", "address", "bound_chain"],
                condition=~Q(bound_chain=""),
                name="wallet_contract_address_chain_unique",
            ),
            # A contract wallet is never used on another chain than its own.
            models.CheckConstraint(
                condition=Q(bound_chain="") | Q(bound_chain=F("chain")),
                name="wallet_contract_used_on_its_chain",
            ),
        ]

    def __str__(self) -> str:
        return self.account_id

    @property
    def account_id(self) -> str:
        """CAIP-10: `<chain>:<address>`."""
        return f"{self.chain}:{self.address}"
