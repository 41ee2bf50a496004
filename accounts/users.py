"""The User object of the contract (API.md), built in one place.

    {"id", "display", "email", "username", "has_usable_password", "wallets", ...}

Other apps add parts to it without being imported here: each part registers
with the model its rows come from, in one call, so the user cache
(accounts.usercache) learns what invalidates the payload where the part is
declared (wallets: `user_part(user_wallets, model=Wallet, strict_delete=True)`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from accounts import userversions

UserPart = Callable[[Any], dict]

_parts: list[UserPart] = []


def user_part(
    build: UserPart, *, model: type[models.Model] | None = None, strict_delete: bool = False
) -> None:
    """Merge `build(user)` into every User object. `model`: the rows it reads
    (owned through a `user` field); any write to one bumps the owner's cached
    payload, and with `strict_delete` a delete must reach Redis first."""
    if build in _parts:
        return  # ready() may run more than once (tests)
    if model is not None:
        userversions.track(model, strict_delete=strict_delete)
    _parts.append(build)


def build_user_payload(user) -> dict:
    # As allauth's serialize_user: a field with no value is left out (Signet
    # has no usernames; a wallet-only user has no email), never null.
    data: dict[str, Any] = {"id": user.pk, "display": user.display}
    if user.email:
        data["email"] = user.email
    data["has_usable_password"] = user.has_usable_password()
    data["wallets"] = []
    for build in _parts:
        data.update(build(user))
    return data
