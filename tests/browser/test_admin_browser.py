"""The Django admin in a real browser: Debian's headless Chromium, driven by
Playwright, against the app served by pytest-django's live server.

One scenario, in the order a support engineer would work: sign in, find users
by email and by wallet address, mark an email verified, end a session, unlink
a wallet, and hit the last-login-method guard. Every step leaves a screenshot
in artifacts/screenshots/. The sessions and wallets it acts on were made over
real HTTP through the API (password login; wallet sign-up and connect with real
signatures), so the admin is checked against the same state production has.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from accounts.models import EmailAddress, User, UserSession
from tests.browser.conftest import LiveApiClient, screenshot
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet, SolanaWallet
from tests.wallets.helpers import sign_in
from wallets.models import Wallet

ADMIN_EMAIL = "root@example.com"
ALICE = "alice@example.com"
ALICE_WORK = "alice.work@example.com"
GUARD = "is the only way left to sign in to its account"


def _search(page: Any, query: str) -> None:
    page.fill("#searchbar", query)
    page.click("#changelist-search input[type=submit]")
    page.wait_for_load_state()


def _rows(page: Any) -> Any:
    return page.locator("#result_list tbody tr")


def _run_action(page: Any, action: str, *rows: Any) -> None:
    """Tick rows, pick the action, press Go: through the admin's own JS."""
    for row in rows:
        row.locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_load_state()


def _message(page: Any, level: str) -> str:
    return page.locator(f"ul.messagelist li.{level}").inner_text()


def test_support_tasks_in_the_admin(page: Any, live_server, api: LiveApiClient, make_api) -> None:
    admin = live_server.url + "/admin"
    User.objects.create_superuser(ADMIN_EMAIL, PASSWORD)

    # Alice: a password user with a verified primary and an unverified second
    # address, signed in through the app API, so her session token is real.
    alice = User.objects.create_user(email=ALICE, password=PASSWORD)
    EmailAddress.objects.create(user=alice, email=ALICE, primary=True, verified=True)
    EmailAddress.objects.create(user=alice, email=ALICE_WORK, verified=False)
    login = api.post("/auth/login", {"email": ALICE, "password": PASSWORD})
    assert login.status_code == HTTPStatus.OK, login.content
    assert api.get("/auth/session").status_code == HTTPStatus.OK

    # A wallet-only user: signs up with an EVM wallet, then connects a Solana
    # one, both with real signatures; it has no password and no email.
    evm, solana = EvmWallet(), SolanaWallet()
    wallet_app = make_api()
    assert sign_in(wallet_app, evm).status_code == HTTPStatus.OK
    assert sign_in(wallet_app, solana, "connect").status_code == HTTPStatus.OK
    loner = Wallet.objects.get(address=evm.address).user
    assert loner.email is None and not loner.has_usable_password()
    assert set(loner.wallets.values_list("address", flat=True)) == {evm.address, solana.address}

    # 1. Sign in as staff.
    page.goto(f"{admin}/login/")
    page.fill("#id_username", ADMIN_EMAIL)
    page.fill("#id_password", PASSWORD)
    screenshot(page, "01_login")
    page.click("input[type=submit]")
    page.wait_for_url(f"{admin}/")
    assert page.locator("h1").inner_text() == "Site administration"
    screenshot(page, "02_dashboard")

    # 2. Find Alice by her second (non-primary) address: the user list searches
    # every address of a user, not only the primary one kept in User.email.
    page.goto(f"{admin}/accounts/user/")
    _search(page, ALICE_WORK)
    assert _rows(page).count() == 1
    assert _rows(page).first.locator("th a").inner_text() == ALICE
    screenshot(page, "03_users_by_email")
    # Her page lists the app session by public id; the key (a live token) is
    # nowhere in the HTML, not even in a hidden input of the inline formset.
    session = UserSession.objects.get(user=alice)
    _rows(page).first.locator("th a").click()
    # The link keeps the search in `?_changelist_filters=`: match the path only.
    page.wait_for_url(re.compile(rf"/admin/accounts/user/{alice.pk}/change/"))
    assert str(session.public_id) in page.locator("#sessions-group").inner_text()
    assert session.session_key not in page.content()
    screenshot(page, "03b_user_page")

    # 3. Find the wallet-only user by a wallet address. The user list does not
    # search wallet addresses, the wallet list does; from the wallet its user
    # page is two clicks away and shows both wallets inline.
    page.goto(f"{admin}/wallets/wallet/")
    _search(page, solana.address)
    assert _rows(page).count() == 1
    screenshot(page, "04_wallets_by_address")
    _rows(page).first.locator("th a").click()  # the address: the wallet's page
    page.locator(".field-user a").click()  # the read-only user field links to the user
    page.wait_for_url(re.compile(rf"/admin/accounts/user/{loner.pk}/change/"))
    wallets_inline = page.locator("#wallets-group")
    assert evm.address in wallets_inline.inner_text()
    assert solana.address in wallets_inline.inner_text()
    screenshot(page, "05_user_found_by_wallet")

    # 4. Mark Alice's second address verified.
    page.goto(f"{admin}/accounts/emailaddress/")
    _search(page, ALICE_WORK)
    _run_action(page, "mark_verified", _rows(page).first)
    assert _message(page, "success") == "Marked 1 address(es) verified."
    assert EmailAddress.objects.get(email=ALICE_WORK).verified
    screenshot(page, "06_email_marked_verified")

    # 5. End Alice's app session: the row is picked by its public id (the key
    # never reaches the page), and the app's token is dead right after.
    page.goto(f"{admin}/accounts/usersession/")
    _search(page, ALICE)
    row = _rows(page).filter(has_text=str(session.public_id))
    assert session.session_key not in page.content()
    _run_action(page, "end_selected_sessions", row)
    assert _message(page, "success") == "Ended 1 session(s)."
    assert not UserSession.objects.filter(user=alice).exists()
    assert api.get("/auth/session").status_code == HTTPStatus.GONE
    screenshot(page, "07_session_ended")

    # 6. Unlink one of the wallet-only user's wallets: it keeps the other.
    page.goto(f"{admin}/wallets/wallet/?user={loner.pk}")
    assert _rows(page).count() == 2
    _run_action(page, "unlink", _rows(page).filter(has_text=evm.address))
    assert _message(page, "success") == "Unlinked 1 wallet(s)."
    assert list(loner.wallets.values_list("address", flat=True)) == [solana.address]
    screenshot(page, "08_wallet_unlinked")

    # 7. The last one is its only way to sign in: the guard refuses, visibly.
    page.goto(f"{admin}/wallets/wallet/?user={loner.pk}")
    _run_action(page, "unlink", _rows(page).filter(has_text=solana.address))
    assert _message(page, "error") == f"Not unlinked: {solana.address}: each {GUARD}."
    assert page.locator("ul.messagelist li.success").count() == 0
    assert loner.wallets.filter(address=solana.address).exists()
    screenshot(page, "09_last_wallet_guard")
