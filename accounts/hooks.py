"""The one way an app plugs into the accounts API's hook lists at start-up
(accounts.api.responses' providers, accounts.flows.signin's login stages,
accounts.middleware's access-token readers): once, however often ready() runs."""

from __future__ import annotations

from collections.abc import Callable


def hook_add(hooks: list, fn: Callable) -> None:
    if fn not in hooks:
        hooks.append(fn)
