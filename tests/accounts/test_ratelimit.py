from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from accounts.errors import ApiError
from accounts.net import client_ip
from accounts.ratelimit import Rate, consume, parse_rates, rates_for
from tests.conftest import PASSWORD, HeadlessClient


def test_login_rate_per_ip_answers_429_with_retry_after(headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "login=3/m/ip"
    for _ in range(3):
        headless.post("/auth/login", {"email": user.email, "password": "wrong password!"})
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json() == {
        "status": 429,
        "errors": [{"code": "rate_limited", "message": "Too many attempts; try again later."}],
    }


def test_failed_logins_per_account_are_limited_across_ips(client_kind, user, db, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=100/m/ip,3/5m/key"
    for i in range(3):
        client = HeadlessClient(client_kind)
        client.http.defaults["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        client.post("/auth/login", {"email": user.email, "password": "wrong password!"})
    client = HeadlessClient(client_kind)
    client.http.defaults["REMOTE_ADDR"] = "198.51.100.99"
    response = client.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 240 < int(response["Retry-After"]) <= 300


def test_successful_logins_do_not_count_as_failures(make_headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=100/m/ip,2/5m/key"
    for _ in range(4):
        client = make_headless()
        assert (
            client.post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code
            == 200
        )


def test_signup_rate(headless, settings):
    settings.ACCOUNT_RATE_LIMITS = "signup=1/m/ip"
    headless.post("/auth/signup", {"email": "one@example.com", "password": PASSWORD})
    response = headless.post("/auth/signup", {"email": "two@example.com", "password": PASSWORD})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_password_reset_rate_per_address(make_headless, settings):
    settings.ACCOUNT_RATE_LIMITS = "reset_password=100/m/ip,2/m/key"
    codes = [
        make_headless().post("/auth/password/request", {"email": "x@example.com"}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_off_disables_every_limit(headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "off"
    assert rates_for("login") == ()
    for _ in range(12):
        headless.post("/auth/login", {"email": user.email, "password": "wrong password!"})
    assert (
        headless.post("/auth/login", {"email": user.email, "password": PASSWORD}).status_code == 200
    )


@pytest.mark.django_db(transaction=True)
def test_counting_is_atomic_across_concurrent_workers(settings):
    """50 concurrent attempts against 10/m: exactly 10 get through."""
    settings.ACCOUNT_RATE_LIMITS = "probe=10/m/key"
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")

    def attempt(_):
        try:
            consume(request, "probe", key="same@example.com")
        except ApiError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(attempt, range(50)))
    assert results.count(True) == 10


def test_rate_notation():
    assert parse_rates("10/m/ip,5/5m/key, 1/3h/user") == (
        Rate(10, 60, "ip"),
        Rate(5, 300, "key"),
        Rate(1, 3 * 3600, "user"),
    )
    with pytest.raises(ImproperlyConfigured):
        parse_rates("10 per minute")


def test_bad_setting_is_a_clear_error(settings):
    settings.ACCOUNT_RATE_LIMITS = "login"
    with pytest.raises(ImproperlyConfigured, match="action=rates"):
        rates_for("login")


def test_client_ip_ignores_forwarded_for_unless_trusted(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "2.2.2.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "1.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer hops than proxies: do not guess
    assert client_ip(request) == "10.0.0.5"
    spoofed = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(spoofed) == "10.0.0.5"


def test_redis_down_fails_open_for_login(headless, user, monkeypatch):
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    import accounts.ratelimit

    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(accounts.ratelimit, "redis_client", lambda: dead)
    response = headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.OK
