"""Per-IP limits count an IPv6 client's /64, not each address (issue 9 item 14).

The attack: an IPv6 host picks a fresh address from its /64 for every
request, and each /128 had its own budget. Now the whole /64 shares one;
IPv4 stays per address.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from accounts.net import rate_limit_network
from tests.conftest import PASSWORD, HeadlessClient

pytestmark = pytest.mark.django_db


def _login_from(ip: str, user, **headers):
    client = HeadlessClient("app")
    client.http.defaults["REMOTE_ADDR"] = ip
    return client.post("/auth/login", {"email": user.email, "password": PASSWORD}, headers=headers)


@pytest.fixture
def two_per_ip(settings):
    settings.ACCOUNT_RATE_LIMITS = "login=2/m/ip"


def test_two_addresses_in_one_64_share_a_bucket(two_per_ip, user):
    assert _login_from("2001:db8:1:2::1", user).status_code == HTTPStatus.OK
    assert _login_from("2001:db8:1:2:dead:beef:0:9", user).status_code == HTTPStatus.OK
    response = _login_from("2001:db8:1:2:ffff:ffff:ffff:ffff", user)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_different_64s_do_not(two_per_ip, user):
    for _ in range(2):
        assert _login_from("2001:db8:1:2::1", user).status_code == HTTPStatus.OK
    assert _login_from("2001:db8:1:3::1", user).status_code == HTTPStatus.OK
    assert _login_from("2001:db8:1:2::1", user).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_ipv4_stays_per_address(two_per_ip, user):
    for _ in range(2):
        assert _login_from("198.51.100.1", user).status_code == HTTPStatus.OK
    assert _login_from("198.51.100.2", user).status_code == HTTPStatus.OK
    # The same client over an IPv4-mapped address is the same IPv4 client.
    response = _login_from("::ffff:198.51.100.1", user)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_behind_a_trusted_proxy_the_forwarded_address_is_grouped(two_per_ip, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for host in ("1", "2"):
        forwarded = {"X-Forwarded-For": f"2001:db8:aa:bb::{host}"}
        assert _login_from("10.0.0.1", user, **forwarded).status_code == HTTPStatus.OK
    forwarded = {"X-Forwarded-For": "2001:db8:aa:bb:1::7"}
    assert _login_from("10.0.0.1", user, **forwarded).status_code == 429


def test_rate_limit_network():
    assert rate_limit_network("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert rate_limit_network("2001:DB8:1:2::") == "2001:db8:1:2::/64"
    assert rate_limit_network("198.51.100.7") == "198.51.100.7"
    assert rate_limit_network("::ffff:198.51.100.7") == "198.51.100.7"
