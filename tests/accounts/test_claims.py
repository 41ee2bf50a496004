"""An unverified address is a claim, not ownership (API.md v1.1; issue 9,
items 2, 5, 6, 11 and 15), tested as the attacker performs each attack."""

from __future__ import annotations

from http import HTTPStatus

from django.core import mail

from accounts.models import EmailAddress, User
from tests.accounts.helpers import anonymous_flows, has_link, key_for, outbox_to, wallet_user
from tests.conftest import PASSWORD
from tests.wallets.conftest import EvmWallet

VICTIM = "victim@example.org"
ATTACKER_PASSWORD = "the attacker's own passphrase"
PENDING = {"flows": anonymous_flows(pending="verify_email")}


def _verify(client, address: str):
    response = client.post("/auth/email/verify", {"key": key_for(address)})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED), response.content
    return response


def _reset_key_user(make_headless, address: str) -> int | None:
    """Ask for a reset of `address`; the id of the account its mail opens, if any."""
    client = make_headless()
    assert client.post("/auth/password/request", {"email": address}).status_code == 200
    message = outbox_to(address)[-1]
    if not has_link(message):
        return None
    info = client.get("/auth/password/reset", headers={"X-Password-Reset-Key": key_for(address)})
    assert info.status_code == HTTPStatus.OK
    return info.json()["data"]["user"]["id"]


def _squat(make_headless, address: str = VICTIM) -> int:
    """The attacker: a throwaway wallet, an address of their own (verified)
    as primary, a password, and `address` parked as a secondary. Their user id."""
    attacker = make_headless()
    attacker_id = wallet_user(attacker)
    attacker.post("/account/email", {"email": "attacker@example.net"})
    _verify(attacker, "attacker@example.net")
    changed = attacker.post("/account/password/change", {"new_password": ATTACKER_PASSWORD})
    assert changed.status_code == HTTPStatus.OK, changed.content
    listed = attacker.post("/account/email", {"email": address})
    assert {"email": address, "primary": False, "verified": False} in listed.json()["data"]
    return attacker_id


# --- Item 2: pre-account takeover through an unverified address ---------------


def test_a_claimed_address_cannot_take_over_the_victims_account(make_headless):
    attacker = make_headless()
    attacker_id = wallet_user(attacker)
    added = attacker.post("/account/email", {"email": VICTIM})
    assert added.json()["data"] == [{"email": VICTIM, "primary": True, "verified": False}]
    attacker_key = key_for(VICTIM)  # mailed to the victim's mailbox, not to the attacker
    # Never User.email while unverified.
    assert attacker.get("/auth/session").json()["data"]["user"].get("email") is None
    assert User.objects.get(pk=attacker_id).email is None

    victim = make_headless()
    signup = victim.post("/auth/signup", {"email": VICTIM, "password": PASSWORD})
    assert signup.status_code == HTTPStatus.UNAUTHORIZED
    assert signup.json()["data"] == PENDING
    last = outbox_to(VICTIM)[-1]
    assert has_link(last) and "already" not in last.subject.lower()  # a real signup

    # Before the victim verifies, a reset opens no account at all.
    assert _reset_key_user(make_headless, VICTIM) is None

    verified = _verify(victim, VICTIM)
    victim_id = verified.json()["data"]["user"]["id"]
    assert verified.status_code == HTTPStatus.OK and victim_id != attacker_id
    assert verified.json()["data"]["user"]["email"] == VICTIM
    # The attacker's claim is gone, and with it the link they had mailed.
    assert attacker.get("/account/email").json()["data"] == []
    assert not EmailAddress.objects.filter(user_id=attacker_id).exists()
    stale = make_headless().post("/auth/email/verify", {"key": attacker_key})
    assert stale.json()["errors"][0]["code"] == "invalid_or_expired_key"
    assert User.objects.get(pk=attacker_id).email is None

    # The victim's reset reaches the victim's account.
    assert _reset_key_user(make_headless, VICTIM) == victim_id


def test_parallel_pending_signups_cannot_reach_each_other(make_headless):
    attacker = make_headless()
    attacker.post("/auth/signup", {"email": VICTIM, "password": ATTACKER_PASSWORD})
    attacker_id = User.objects.get().pk
    attacker_key = key_for(VICTIM)
    victim = make_headless()
    assert victim.post("/auth/signup", {"email": VICTIM, "password": PASSWORD}).json()["data"] == (
        PENDING
    )
    victim_id = User.objects.exclude(pk=attacker_id).get().pk

    # A pending signup never signs in by password: at most back to verification.
    for password in (ATTACKER_PASSWORD, PASSWORD):
        client = make_headless()
        login = client.post("/auth/login", {"email": VICTIM, "password": password})
        assert login.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
        assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED
    assert _reset_key_user(make_headless, VICTIM) is None

    verified = _verify(victim, VICTIM)
    assert verified.status_code == HTTPStatus.OK
    assert verified.json()["data"]["user"]["id"] == victim_id
    # The losing signup, left with nothing, is gone; its key opens nothing.
    assert not User.objects.filter(pk=attacker_id).exists()
    stale = make_headless().post("/auth/email/verify", {"key": attacker_key})
    assert stale.json()["errors"][0]["code"] == "invalid_or_expired_key"
    login = make_headless().post("/auth/login", {"email": VICTIM, "password": ATTACKER_PASSWORD})
    assert login.json()["errors"][0]["code"] == "email_password_mismatch"


def test_a_pending_signup_logs_in_only_through_verification(make_headless):
    first = make_headless()
    first.post("/auth/signup", {"email": VICTIM, "password": PASSWORD})
    mail.outbox.clear()
    other = make_headless()
    login = other.post("/auth/login", {"email": VICTIM, "password": PASSWORD})
    assert login.status_code == HTTPStatus.UNAUTHORIZED
    assert login.json()["data"] == PENDING
    verified = _verify(other, VICTIM)  # the fresh link the login mailed
    assert verified.status_code == HTTPStatus.OK


def test_verification_none_signup_owns_the_address(make_headless, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    attacker = make_headless()
    attacker_id = wallet_user(attacker)
    attacker.post("/account/email", {"email": VICTIM})
    victim = make_headless()
    signup = victim.post("/auth/signup", {"email": VICTIM, "password": PASSWORD})
    assert signup.status_code == HTTPStatus.OK
    assert signup.json()["data"]["user"]["email"] == VICTIM
    assert not EmailAddress.objects.filter(user_id=attacker_id).exists()


# --- Item 5: adding an address tells nothing about its owner --------------------


def test_adding_an_owned_address_answers_like_a_free_one(make_headless, user_factory):
    owner = user_factory(email="bob@example.com")
    owned, free = make_headless(), make_headless()
    wallet_user(owned)
    wallet_user(free)
    mail.outbox.clear()

    a = owned.post("/account/email", {"email": "BOB@example.com"})
    b = free.post("/account/email", {"email": "carol@example.com"})
    assert a.status_code == b.status_code == HTTPStatus.OK
    assert a.json() == {
        "status": 200,
        "data": [{"email": "BOB@example.com", "primary": True, "verified": False}],
    }
    assert b.json() == {
        "status": 200,
        "data": [{"email": "carol@example.com", "primary": True, "verified": False}],
    }
    # The owner is told, with nothing to click that would verify the claim.
    [notice] = outbox_to("BOB@example.com")
    assert "someone tried to add your address" in notice.subject.lower()
    assert not has_link(notice)
    assert has_link(outbox_to("carol@example.com")[-1])

    # Resending answers alike too: the same cooldown, the owner notified again.
    assert owned.put("/account/email", {"email": "bob@example.com"}).status_code == 200
    assert free.put("/account/email", {"email": "carol@example.com"}).status_code == 200
    assert (
        owned.put("/account/email", {"email": "bob@example.com"}).status_code
        == HTTPStatus.FORBIDDEN
    )  # allauth: 403
    assert (
        free.put("/account/email", {"email": "carol@example.com"}).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert not any(has_link(m) for m in outbox_to("BOB@example.com"))
    assert EmailAddress.objects.get(user=owner).verified  # the owner keeps it


# --- Item 15: mails to an address on someone else's request are limited ------


def test_account_exists_mails_are_limited_per_address(make_headless, user_factory):
    user_factory(email="bob@example.com")
    answers = set()
    for _ in range(8):
        signup = make_headless().post(
            "/auth/signup", {"email": "Bob@Example.com", "password": PASSWORD}
        )
        answers.add((signup.status_code, str(signup.json()["data"])))
    assert answers == {(HTTPStatus.UNAUTHORIZED, str(PENDING))}
    assert len(outbox_to("Bob@example.com")) == 5  # address_mail: 5/h/key


def test_signup_mails_count_alike_whoever_owns_the_address(make_headless):
    """The fresh path counts against the same limit, so a skipped mail (a
    faster answer) tells nothing about the address."""
    for _ in range(7):
        make_headless().post("/auth/signup", {"email": "new@example.com", "password": PASSWORD})
    assert len(outbox_to("new@example.com")) == 5


def test_owner_notices_are_limited_per_address(make_headless, user_factory, sign_in):
    user_factory(email="bob@example.com")
    for i in range(7):
        client = make_headless()
        sign_in(client, user_factory(email=f"attacker{i}@example.com"))
        assert client.post("/account/email", {"email": "bob@example.com"}).status_code == 200
    assert len(outbox_to("bob@example.com")) == 5


# --- Item 6: squatting on the owner's address as a secondary -------------------


def test_squatting_does_not_fail_the_owners_signup(make_headless):
    attacker_id = _squat(make_headless)
    victim = make_headless()
    signup = victim.post("/auth/signup", {"email": VICTIM, "password": PASSWORD})
    assert signup.status_code == HTTPStatus.UNAUTHORIZED and signup.json()["data"] == PENDING
    assert "already" not in outbox_to(VICTIM)[-1].subject.lower()
    verified = _verify(victim, VICTIM)
    assert verified.status_code == HTTPStatus.OK
    assert verified.json()["data"]["user"]["id"] != attacker_id
    assert not EmailAddress.objects.filter(user_id=attacker_id, email=VICTIM).exists()
    # The attacker keeps their own account and address, nothing more.
    assert User.objects.get(pk=attacker_id).email == "attacker@example.net"
    victim_id = verified.json()["data"]["user"]["id"]
    login = make_headless().post("/auth/login", {"email": VICTIM, "password": PASSWORD})
    assert login.json()["data"]["user"]["id"] == victim_id
    assert _reset_key_user(make_headless, VICTIM) == victim_id


def test_squatting_does_not_fail_the_owners_login(make_headless, user_factory):
    owner = user_factory(email=VICTIM)
    attacker_id = _squat(make_headless)
    login = make_headless().post("/auth/login", {"email": VICTIM, "password": PASSWORD})
    assert login.status_code == HTTPStatus.OK
    assert login.json()["data"]["user"]["id"] == owner.pk
    # The claimer's own password opens nothing through the claim.
    theirs = make_headless().post("/auth/login", {"email": VICTIM, "password": ATTACKER_PASSWORD})
    assert theirs.json()["errors"][0]["code"] == "email_password_mismatch"
    assert attacker_id != owner.pk


def test_squatting_does_not_fail_the_owners_reset(make_headless, user_factory):
    owner = user_factory(email=VICTIM)
    _squat(make_headless)
    assert _reset_key_user(make_headless, VICTIM) == owner.pk
    client = make_headless()
    reset = client.post(
        "/auth/password/reset", {"key": key_for(VICTIM), "password": "a whole new passphrase 42"}
    )
    assert reset.status_code == HTTPStatus.UNAUTHORIZED
    login = make_headless().post(
        "/auth/login", {"email": VICTIM, "password": "a whole new passphrase 42"}
    )
    assert login.json()["data"]["user"]["id"] == owner.pk


# --- Item 11: the unlink guard counts only ways that really sign in -----------


def test_a_wallet_user_cannot_lock_themselves_out(make_headless):
    """The issue's steps: a verified secondary, an unverified primary, then
    unlink the only wallet. Verifying the secondary makes it primary (the
    unverified one was only a claim), and it signs in afterwards."""
    client, wallet = make_headless(), EvmWallet()
    user_id = wallet_user(client, wallet)
    assert client.post("/account/password/change", {"new_password": PASSWORD}).status_code == 200
    client.post("/account/email", {"email": "typo@example.com"})
    client.post("/account/email", {"email": "real@example.com"})
    _verify(client, "real@example.com")
    unlinked = client.delete("/account/wallets", {"chain": wallet.chain, "address": wallet.address})
    assert unlinked.status_code == HTTPStatus.OK
    login = make_headless().post("/auth/login", {"email": "real@example.com", "password": PASSWORD})
    assert login.status_code == HTTPStatus.OK
    assert login.json()["data"]["user"]["id"] == user_id
    assert client.get("/account/email").json()["data"] == [
        {"email": "real@example.com", "primary": True, "verified": True},
        {"email": "typo@example.com", "primary": False, "verified": False},
    ]


def test_a_password_with_only_claims_keeps_the_last_wallet(make_headless):
    client, wallet = make_headless(), EvmWallet()
    wallet_user(client, wallet)
    client.post("/account/password/change", {"new_password": PASSWORD})
    client.post("/account/email", {"email": "typo@example.com"})
    unlinked = client.delete("/account/wallets", {"chain": wallet.chain, "address": wallet.address})
    assert unlinked.status_code == HTTPStatus.CONFLICT
    assert unlinked.json()["errors"][0]["code"] == "last_login_method"
    # Indeed no way in: the password alone opens no session.
    other = make_headless()
    other.post("/auth/login", {"email": "typo@example.com", "password": PASSWORD})
    assert other.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_an_unverified_primary_claim_can_be_removed(make_headless):
    client = make_headless()
    wallet_user(client)
    client.post("/account/email", {"email": "typo@example.com"})
    removed = client.delete("/account/email", {"email": "typo@example.com"})
    assert removed.json() == {"status": 200, "data": []}
