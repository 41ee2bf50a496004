"""Liveness (no dependency) and readiness (database and cache) probes."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from accounts.redis import redis_client

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    redis_client().ping()


CHECKS = {"database": _database, "cache": _cache}


@require_safe
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": 200, "data": {"alive": True}})


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; say which
            logger.warning("health check %s failed: %s", name, exc.__class__.__name__)
            results[name] = "unavailable"
    failed = [name for name, value in results.items() if value != "ok"]
    if failed:
        body = {
            "status": 503,
            "errors": [
                {"code": "service_unavailable", "message": f"{name} is unavailable.", "param": name}
                for name in failed
            ],
            "data": {"checks": results},
        }
        response = JsonResponse(body, status=503)
    else:
        response = JsonResponse({"status": 200, "data": {"checks": results}})
    add_never_cache_headers(response)
    return response
