"""Django admin for wallets (as a superuser): list, search, filters, inline, unlink."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD
from tests.wallets.conftest import CosmosWallet, EvmWallet, SolanaWallet
from wallets.models import Wallet

WALLETS = "/admin/wallets/wallet/"


@pytest.fixture
def admin_client(db) -> Client:
    admin = User.objects.create_superuser("root@example.com", PASSWORD)
    client = Client()
    client.force_login(admin)
    return client


def _link(user, wallet, namespace: str, chain: str) -> Wallet:
    return Wallet.objects.create(
        user=user, namespace=namespace, chain=chain, address=wallet.address
    )


@pytest.fixture
def wallets(user_factory):
    """alice: email + password and one EVM wallet; a wallet-only user with two."""
    alice = user_factory()
    evm = _link(alice, EvmWallet(), "eip155", "eip155:1")
    loner = User.objects.create_user()
    solana = _link(loner, SolanaWallet(), "solana", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")
    cosmos = _link(loner, CosmosWallet(), "cosmos", "cosmos:cosmoshub-4")
    return {"evm": evm, "solana": solana, "cosmos": cosmos, "alice": alice, "loner": loner}


def _listed(response) -> set[str]:
    return {wallet.address for wallet in response.context["cl"].result_list}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_list_search_and_filters(admin_client, wallets):
    everything = {w.address for w in Wallet.objects.all()}
    assert _listed(admin_client.get(WALLETS)) == everything
    evm = wallets["evm"].address
    assert _listed(admin_client.get(WALLETS, {"q": evm[5:20]})) == {evm}
    assert _listed(admin_client.get(WALLETS, {"q": "alice@example"})) == {evm}
    assert _listed(admin_client.get(WALLETS, {"namespace": "solana"})) == {
        wallets["solana"].address
    }
    by_user = admin_client.get(WALLETS, {"user": wallets["loner"].pk})
    assert _listed(by_user) == {wallets["solana"].address, wallets["cosmos"].address}
    recent = admin_client.get(WALLETS, {"last_used_at__gte": "2000-01-01 00:00:00+00:00"})
    assert _listed(recent) == everything
    assert (
        admin_client.get(WALLETS, {"created_at__gte": "2999-01-01 00:00:00+00:00"})
        .context["cl"]
        .result_count
        == 0
    )


def test_wallets_are_inline_on_the_user_page(admin_client, wallets):
    page = admin_client.get(f"/admin/accounts/user/{wallets['loner'].pk}/change/")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert wallets["solana"].address in html and wallets["cosmos"].address in html
    assert wallets["evm"].address not in html


def test_wallets_are_read_only_and_never_added(admin_client, wallets):
    assert admin_client.get(WALLETS + "add/").status_code == HTTPStatus.FORBIDDEN
    page = admin_client.get(f"{WALLETS}{wallets['evm'].pk}/change/")
    assert page.status_code == HTTPStatus.OK
    assert not page.context["adminform"].form.fields  # every field read-only


def _unlink(admin_client, *objs: Wallet):
    data = {"action": "unlink", ACTION_CHECKBOX_NAME: [w.pk for w in objs]}
    return admin_client.post(WALLETS, data, follow=True)


def test_unlink_action_keeps_a_way_to_sign_in(admin_client, wallets):
    response = _unlink(admin_client, wallets["evm"], wallets["solana"], wallets["cosmos"])
    assert response.status_code == HTTPStatus.OK
    # alice keeps her password; the wallet-only user keeps one of two wallets.
    assert list(Wallet.objects.values_list("address", flat=True)) == [wallets["cosmos"].address]
    assert _messages(response) == [
        "Unlinked 2 wallet(s).",
        f"Not unlinked: {wallets['cosmos'].address}: "
        "each is the only way left to sign in to its account.",
    ]


def test_plain_bulk_delete_is_not_offered(admin_client, wallets):
    actions = admin_client.get(WALLETS).context["action_form"].fields["action"].choices
    assert [name for name, _label in actions if name] == ["unlink"]


def test_delete_page_applies_the_guard(admin_client, wallets):
    _unlink(admin_client, wallets["solana"])
    last = wallets["cosmos"]
    response = admin_client.post(f"{WALLETS}{last.pk}/delete/", {"post": "yes"}, follow=True)
    assert Wallet.objects.filter(pk=last.pk).exists()
    assert _messages(response) == [
        f"{last.address} is the only way left to sign in to its account."
    ]
    response = admin_client.post(f"{WALLETS}{wallets['evm'].pk}/delete/", {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Wallet.objects.filter(pk=wallets["evm"].pk).exists()


def test_deleting_a_user_takes_their_wallets(admin_client, wallets):
    loner = wallets["loner"]
    response = admin_client.post(f"/admin/accounts/user/{loner.pk}/delete/", {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert not Wallet.objects.filter(user_id=loner.pk).exists()
