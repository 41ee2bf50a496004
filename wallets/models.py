"""Wallets linked to users.

A wallet is identified by (CAIP-2 namespace, canonical address): an EVM
address is one wallet on every EVM chain, so `chain` only records the chain it
was last used on. The database enforces that a wallet belongs to one user.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
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
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)

    # The user's cached payload lists its wallets: update() must bump it too.
    objects = UserDataQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["namespace", "address"], name="wallet_namespace_address_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.account_id

    @property
    def account_id(self) -> str:
        """CAIP-10: `<chain>:<address>`."""
        return f"{self.chain}:{self.address}"
