from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import accounts.health


@pytest.mark.django_db
def test_ready_when_database_and_cache_answer():
    response = Client().get("/health")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": 200, "data": {"checks": {"database": "ok", "cache": "ok"}}}


@pytest.mark.django_db
def test_503_names_the_cache_when_redis_is_down(monkeypatch):
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr(accounts.health, "redis_client", lambda: dead)
    response = Client().get("/health")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    body = response.json()
    assert body["data"]["checks"] == {"database": "ok", "cache": "unavailable"}
    assert body["errors"] == [
        {"code": "service_unavailable", "message": "cache is unavailable.", "param": "cache"}
    ]


def test_liveness_needs_nothing():
    response = Client().get("/health/live")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": 200, "data": {"alive": True}}
