"""Raw Redis access for what the cache API cannot do atomically
(rate-limit counters, single-use wallet challenges)."""

from __future__ import annotations

from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis


def redis_client() -> Redis:
    return get_redis_connection("default")


def redis_key(*parts: str) -> str:
    """Every raw key starts with REDIS_KEY_PREFIX, like the cache's keys."""
    return ":".join((settings.REDIS_KEY_PREFIX, *parts))
