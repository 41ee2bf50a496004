"""Fixed windows stay exact under concurrency: a give-back never lands in the
next window (found by tests/system/test_bruteforce.py: one extra guess per
window when the counter expired between counting and giving back)."""

from __future__ import annotations

import time

import pytest
from django.test import RequestFactory

from accounts.errors import ApiError
from accounts.ratelimit import Action, consume, consume_all

pytestmark = pytest.mark.django_db


def _request(ip: str = "198.51.100.1"):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


def test_a_give_back_after_the_window_grants_no_extra_attempt(settings):
    settings.ACCOUNT_RATE_LIMITS = "login_failed=2/1s/key"
    spent = consume(_request(), Action.LOGIN_FAILED, key="victim@example.com")
    time.sleep(1.2)  # the window ends before the attempt is given back
    spent.refund()
    for _ in range(2):
        consume(_request(), Action.LOGIN_FAILED, key="victim@example.com")
    with pytest.raises(ApiError) as refused:
        consume(_request(), Action.LOGIN_FAILED, key="victim@example.com")
    assert refused.value.status == 429


def test_actions_after_a_refused_one_are_not_counted(settings):
    settings.ACCOUNT_RATE_LIMITS = "login=1/m/ip;login_failed=2/m/key"
    both = [(Action.LOGIN, None), (Action.LOGIN_FAILED, "victim@example.com")]
    consume_all(_request("198.51.100.1"), both)
    with pytest.raises(ApiError):
        consume_all(_request("198.51.100.1"), both)  # the IP is spent: the key is not counted
    consume_all(_request("198.51.100.2"), both)  # the key's second attempt
    with pytest.raises(ApiError) as refused:
        consume_all(_request("198.51.100.3"), both)
    assert refused.value.status == 429
