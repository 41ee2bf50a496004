"""/admin/login/ is rate limited like the API's login (issue 9 item 9).

The attack: 25 wrong passwords on the admin login form, then the right one
worked. Failures now count in the API's buckets (accounts.ratelimit), per IP
and per account, with the same Redis counters: after the limit the form
refuses even the right password until the window passes.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.admin_login import TOO_MANY_ATTEMPTS
from accounts.models import User
from tests.conftest import PASSWORD, HeadlessClient

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root@example.com", PASSWORD)


def _attempt(email: str, password: str, ip: str = "198.51.100.1"):
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": email, "password": password})


def _signed_in(response) -> bool:
    return response.status_code == HTTPStatus.FOUND


def _refused_for_rate(response) -> bool:
    return response.status_code == HTTPStatus.OK and TOO_MANY_ATTEMPTS in response.content.decode()


def test_25_wrong_passwords_then_the_right_one_is_refused(root):
    answers = [_attempt(root.email, f"wrong password {i}") for i in range(25)]
    assert not any(_signed_in(a) for a in answers)
    assert _refused_for_rate(answers[-1])
    assert _refused_for_rate(_attempt(root.email, PASSWORD))


def test_the_account_limit_holds_across_ips(root, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=100/m/ip,3/5m/key"
    for i in range(3):
        assert not _signed_in(_attempt(root.email, "wrong password", ip=f"198.51.100.{i + 1}"))
    assert _refused_for_rate(_attempt(root.email, PASSWORD, ip="203.0.113.99"))
    # Another account is not locked by it.
    User.objects.create_superuser("other@example.com", PASSWORD)
    assert _signed_in(_attempt("other@example.com", PASSWORD, ip="203.0.113.99"))


def test_the_ip_limit_holds_across_accounts(root, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=3/m/ip,100/5m/key"
    for i in range(3):
        assert not _signed_in(_attempt(f"guess{i}@example.com", "wrong password"))
    assert _refused_for_rate(_attempt(root.email, PASSWORD))
    assert _signed_in(_attempt(root.email, PASSWORD, ip="198.51.100.200"))


def test_the_api_and_the_admin_share_one_budget(root, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=100/m/ip,4/5m/key"
    api = HeadlessClient("app")
    for _ in range(2):
        api.post("/auth/login", {"email": root.email, "password": "wrong password"})
    for _ in range(2):
        assert not _signed_in(_attempt(root.email, "wrong password"))
    assert _refused_for_rate(_attempt(root.email, PASSWORD))
    response = api.post("/auth/login", {"email": root.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_signing_in_is_not_a_failure(root, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=100/m/ip,2/5m/key"
    for _ in range(4):
        assert _signed_in(_attempt(root.email, PASSWORD))
