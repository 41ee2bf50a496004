"""Trust this browser (`mfa_trust`, POST /_allauth/browser/v1/auth/2fa/trust).

With MFA_TRUST_ENABLED a browser sign-in that passed its second factor stops
at `mfa_trust`; `trust: true` signs in and sets a cookie with which the next
sign-ins of that user from that browser skip the second factor. Driven over
HTTP with real TOTP codes, real recovery codes and a software WebAuthn key;
attacks as an attacker makes them: a copied, tampered or aged cookie, a
trust answer sent before the second factor, the app client.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import signing

from accounts.mfa.flows.trust import SALT
from accounts.models import AuthEvent
from tests.accounts.helpers import anonymous_flows
from tests.conftest import PASSWORD, HeadlessClient

from .helpers import (
    AUTHENTICATE,
    REAUTHENTICATE,
    RECOVERY,
    activate_totp,
    age_authentication,
    age_pending,
    code,
    login,
    step_now,
)
from .webauthn_client import SoftKey, assert_with, register

TRUST = "/auth/2fa/trust"
COOKIE = "mfa_trusted"
AGE = 14 * 24 * 3600  # allauth's MFA_TRUST_COOKIE_AGE
NEW_PASSWORD = "a brand new passphrase 7"
TRUST_PENDING = {"id": "mfa_trust", "is_pending": True}
MFA_PENDING = {"id": "mfa_authenticate", "is_pending": True, "types": ["recovery_codes", "totp"]}


@pytest.fixture(autouse=True)
def trust_enabled(settings):
    settings.MFA_TRUST_ENABLED = True


class MfaUser:
    """A user with TOTP, the browser that set it up, and their unused recovery codes."""

    def __init__(self, user, kind: str = "browser") -> None:
        self.user = user
        setup = HeadlessClient(kind)
        assert login(setup, user).status_code == HTTPStatus.OK
        self.secret = activate_totp(setup)
        self.codes = setup.get(RECOVERY).json()["data"]["unused_codes"]
        self.totp_fresh = True  # activation used the current step; the next one is left

    def second_factor(self) -> str:
        # Each TOTP step is accepted once, never an older one: one more TOTP
        # code, then recovery codes (single use, ten of them).
        if self.totp_fresh:
            self.totp_fresh = False
            return code(self.secret, step_now() + 1)
        return self.codes.pop()


@pytest.fixture
def alice(user):
    return MfaUser(user)


def _browser() -> HeadlessClient:
    return HeadlessClient("browser")


def _flows(response) -> list[dict]:
    return response.json()["data"]["flows"]


def _to_trust_stage(client, mfa: MfaUser):
    """Password, then the second factor: the sign-in waits at `mfa_trust`."""
    response = login(client, mfa.user)
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert _flows(response)[-1] == MFA_PENDING
    response = client.post(AUTHENTICATE, {"code": mfa.second_factor()})
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    return response


def _sign_in_trusting(client, mfa: MfaUser, trust: bool = True):
    _to_trust_stage(client, mfa)
    response = client.post(TRUST, {"trust": trust})
    assert response.status_code == HTTPStatus.OK, response.content
    return response


def _signs_in_without_mfa(client, user) -> bool:
    """Sign out, sign in with the password: True when no second factor is asked."""
    client.delete("/auth/session")
    response = login(client, user)
    if response.status_code == HTTPStatus.OK:
        assert [m["method"] for m in response.json()["data"]["methods"]] == ["password"]
        return True
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert _flows(response)[-1] == MFA_PENDING
    return False


def _cookie(client) -> str:
    return client.http.cookies[COOKIE].value


# --- The flow ---------------------------------------------------------------------


def test_after_the_second_factor_the_browser_sign_in_waits_at_mfa_trust(alice):
    client = _browser()
    response = _to_trust_stage(client, alice)
    body = response.json()
    assert body["data"]["flows"] == [*anonymous_flows(), TRUST_PENDING]
    assert body["meta"]["is_authenticated"] is False
    assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED  # not signed in yet
    assert _flows(client.get("/auth/session"))[-1] == TRUST_PENDING


def test_trusting_signs_in_and_the_next_sign_in_skips_the_second_factor(alice):
    client = _browser()
    response = _sign_in_trusting(client, alice)
    password, mfa = response.json()["data"]["methods"]
    assert password["method"] == "password"
    assert mfa["method"] == "mfa" and mfa["type"] == "totp"
    assert client.get("/auth/session").status_code == HTTPStatus.OK
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"  # the session cookie's attributes
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # as SESSION_COOKIE_SECURE in tests; see below for production
    assert int(cookie["max-age"]) == AGE
    assert AuthEvent.objects.filter(user=alice.user, kind="mfa_browser_trusted").exists()
    assert _signs_in_without_mfa(client, alice.user)
    assert _signs_in_without_mfa(client, alice.user)  # for as long as the cookie lives
    assert AuthEvent.objects.filter(user=alice.user, kind="mfa_trusted_browser_used").count() == 2


def test_the_cookie_is_secure_where_the_session_cookie_is(alice, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    response = _sign_in_trusting(_browser(), alice)
    assert response.cookies[COOKIE]["secure"] is True
    assert response.cookies[COOKIE]["samesite"] == "Strict"


def test_not_trusting_signs_in_and_the_next_sign_in_asks_again(alice):
    client = _browser()
    response = _sign_in_trusting(client, alice, trust=False)
    assert COOKIE not in response.cookies
    assert [m["method"] for m in response.json()["data"]["methods"]] == ["password", "mfa"]
    assert not _signs_in_without_mfa(client, alice.user)


def test_trust_absent_means_do_not_trust(alice):
    # allauth's TrustInput: `trust` is optional (its spec says required).
    client = _browser()
    _to_trust_stage(client, alice)
    response = client.post(TRUST, {})
    assert response.status_code == HTTPStatus.OK
    assert COOKIE not in response.cookies


def test_a_webauthn_second_factor_waits_at_mfa_trust_too(user):
    setup = _browser()
    assert login(setup, user).status_code == HTTPStatus.OK
    key = SoftKey()
    assert register(setup, key).status_code == HTTPStatus.OK
    client = _browser()
    login(client, user)
    response = assert_with(client, key)
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert _flows(response)[-1] == TRUST_PENDING
    response = client.post(TRUST, {"trust": True})
    assert response.json()["data"]["methods"][-1]["type"] == "webauthn"
    assert _signs_in_without_mfa(client, user)


def test_one_browser_remembers_each_user_it_trusted(alice, user_factory):
    bob = MfaUser(user_factory("bob@example.com"))
    client = _browser()
    _sign_in_trusting(client, alice)
    client.delete("/auth/session")
    _sign_in_trusting(client, bob)
    assert _signs_in_without_mfa(client, alice.user)
    assert _signs_in_without_mfa(client, bob.user)


# --- Refusals ---------------------------------------------------------------------


def test_the_answer_cannot_skip_the_second_factor(alice):
    """An attacker with the password posts the trust answer instead of a code."""
    client = _browser()
    login(client, alice.user)
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert _flows(response)[-1] == MFA_PENDING  # still waiting for the second factor
    assert COOKIE not in response.cookies
    assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED


def test_without_a_pending_sign_in_the_answer_is_a_401_with_the_flows(db):
    response = _browser().post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows()


def test_the_answer_times_out_with_the_login(alice):
    client = _browser()
    _to_trust_stage(client, alice)
    age_pending(client, 15 * 60 + 1)  # ACCOUNT_LOGIN_TIMEOUT
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["data"]["flows"] == anonymous_flows()


def test_a_password_changed_at_the_trust_stage_voids_it(alice):
    client = _browser()
    _to_trust_stage(client, alice)
    alice.user.set_password(NEW_PASSWORD)
    alice.user.save()
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert COOKIE not in response.cookies


def test_signed_in_the_answer_is_a_409(alice):
    client = _browser()
    _sign_in_trusting(client, alice, trust=False)
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["errors"][0]["code"] == "already_authenticated"


def test_a_malformed_answer_is_a_400(alice):
    client = _browser()
    _to_trust_stage(client, alice)
    response = client.post(TRUST, {"trust": "perhaps"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"][0]["param"] == "trust"
    assert _flows(client.get("/auth/session"))[-1] == TRUST_PENDING  # still pending


def test_switched_off_the_route_is_a_404_and_no_cookie_is_honoured(alice, settings):
    client = _browser()
    _sign_in_trusting(client, alice)
    settings.MFA_TRUST_ENABLED = False
    assert not _signs_in_without_mfa(client, alice.user)
    response = client.post(AUTHENTICATE, {"code": alice.second_factor()})
    assert response.status_code == HTTPStatus.OK  # no mfa_trust stage
    client.delete("/auth/session")
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["errors"][0]["code"] == "not_found"


# --- The app client ---------------------------------------------------------------


def test_the_app_client_never_sees_mfa_trust(user):
    mfa = MfaUser(user, kind="app")
    client = HeadlessClient("app")
    login(client, user)
    response = client.post(AUTHENTICATE, {"code": mfa.second_factor()})
    assert response.status_code == HTTPStatus.OK, response.content  # signed in, no trust stage
    response = client.post(TRUST, {"trust": True})
    assert response.status_code == HTTPStatus.NOT_FOUND  # allauth has the route for browsers only


def test_the_app_client_ignores_a_trust_cookie(alice):
    trusted = _browser()
    _sign_in_trusting(trusted, alice)
    app = HeadlessClient("app")
    app.http.cookies[COOKIE] = _cookie(trusted)
    response = login(app, alice.user)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert _flows(response)[-1] == MFA_PENDING


# --- What the cookie is worth -----------------------------------------------------


def test_another_users_copied_cookie_skips_nothing(alice, user_factory):
    bob = MfaUser(user_factory("bob@example.com"))
    trusted = _browser()
    _sign_in_trusting(trusted, alice)
    attacker = _browser()
    attacker.http.cookies[COOKIE] = _cookie(trusted)
    response = login(attacker, bob.user)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert _flows(response)[-1] == MFA_PENDING


def test_a_stolen_cookie_still_needs_the_password(alice):
    trusted = _browser()
    _sign_in_trusting(trusted, alice)
    thief = _browser()
    thief.http.cookies[COOKIE] = _cookie(trusted)
    response = thief.post("/auth/login", {"email": alice.user.email, "password": "wrong password"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert thief.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED
    assert _signs_in_without_mfa(thief, alice.user)  # with the password, it is the same browser


def test_a_tampered_cookie_is_ignored(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    value = _cookie(client)
    payload, _, signature = value.rpartition(":")
    entries = signing.Signer(salt=SALT).unsign_object(value)
    for forged in (
        payload + ":" + signature[::-1],
        "x" + value,
        signing.Signer().sign_object(entries),  # the same entries signed for another purpose
        signing.Signer(salt=SALT, key="not the server's key").sign_object(entries),
        "",
    ):
        client.http.cookies[COOKIE] = forged
        assert not _signs_in_without_mfa(client, alice.user)


def _aged(value: str, seconds: int) -> str:
    """The cookie as it will be `seconds` from now: each entry issued that much earlier
    (re-signed with the server's key, as only time could otherwise do)."""
    signer = signing.Signer(salt=SALT)
    return signer.sign_object([[fp, at - seconds] for fp, at in signer.unsign_object(value)])


def test_the_cookie_expires_after_mfa_trust_cookie_age(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    value = _cookie(client)
    client.http.cookies[COOKIE] = _aged(value, AGE - 60)
    assert _signs_in_without_mfa(client, alice.user)  # still within the age
    client.http.cookies[COOKIE] = _aged(value, AGE + 1)
    assert not _signs_in_without_mfa(client, alice.user)


def test_a_password_change_voids_the_trust(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post("/account/password/change", body).status_code == HTTPStatus.OK
    client.delete("/auth/session")
    response = client.post("/auth/login", {"email": alice.user.email, "password": NEW_PASSWORD})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert _flows(response)[-1] == MFA_PENDING


def test_new_recovery_codes_void_the_trust(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    assert client.post(RECOVERY).status_code == HTTPStatus.OK  # fresh sign-in: no step-up
    assert not _signs_in_without_mfa(client, alice.user)


def test_removing_the_second_factor_and_adding_it_again_voids_the_trust(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    assert client.delete("/account/authenticators/totp").status_code == HTTPStatus.OK
    assert _signs_in_without_mfa(client, alice.user)  # no second factor at all now
    activate_totp(client)
    assert not _signs_in_without_mfa(client, alice.user)


def test_trust_never_reauthenticates(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    assert _signs_in_without_mfa(client, alice.user)
    age_authentication(client, 3600)
    response = client.get(RECOVERY)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert "mfa_reauthenticate" in {f["id"] for f in _flows(response)}
    response = client.post(REAUTHENTICATE, {"code": "000000"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert client.get(RECOVERY).status_code == HTTPStatus.UNAUTHORIZED


def test_a_deactivated_user_is_not_signed_in_by_a_trusted_browser(alice):
    client = _browser()
    _sign_in_trusting(client, alice)
    client.delete("/auth/session")
    alice.user.is_active = False
    alice.user.save()
    response = login(client, alice.user)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert client.get("/auth/session").status_code == HTTPStatus.UNAUTHORIZED
