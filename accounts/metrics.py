"""Prometheus metrics: HTTP traffic by route and status, and auth outcomes.

Metrics live in their own registry (not prometheus_client's global one), so
nothing a library registers leaks into /metrics. Under gunicorn with several
workers, set PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped at start):
every worker then writes its samples to files there and a scrape adds them up;
gunicorn's `child_exit` hook must call `multiprocess.mark_process_dead`.

Labels stay bounded: the URL *route* (never the raw path), a known method,
the status; auth labels are code constants, and a chain is reduced to its
CAIP-2 namespace, and only to one the deployment accepts.

/metrics answers 404 in the envelope unless the scraper shows
`Authorization: Bearer <METRICS_TOKEN>` or comes from METRICS_ALLOWED_NETWORKS
(its connection and, behind trusted proxies, the client they name).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    gc_collector,
    generate_latest,
    multiprocess,
    platform_collector,
    process_collector,
)

from accounts.errors import not_found_response
from accounts.net import client_ip
from accounts.signals import Event
from config.patterns import request_pattern

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REGISTRY = CollectorRegistry(auto_describe=True)
if not MULTIPROCESS:
    # Per-process collectors make no sense summed over workers.
    process_collector.ProcessCollector(registry=REGISTRY)
    platform_collector.PlatformCollector(registry=REGISTRY)
    gc_collector.GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "signet_http_requests_total",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "signet_http_request_duration_seconds",
    "Time from the first middleware to the response, by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
AUTH_EVENTS = Counter(
    "signet_auth_events_total",
    "Authentication events (logins, failures, signups, wallet verifies, ...).",
    ["kind", "outcome", "method", "chain_family"],
    registry=REGISTRY,
)
RATE_LIMIT_HITS = Counter(
    "signet_rate_limit_hits_total",
    "Requests refused by a rate limit, by action.",
    ["action"],
    registry=REGISTRY,
)

OTHER = "other"
UNMATCHED = "<unmatched>"
STATIC = "<static>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LABEL = request_pattern("metrics.label", r"[a-z0-9_]{1,32}", attacks=("a",))


# --- HTTP -------------------------------------------------------------------


def route_of(request: HttpRequest) -> str:
    """The URL pattern that served the request (`_allauth/app/v1/auth/login`).

    Responses made before URL resolution (a 410 for a stale token, a 413, a
    redirect to HTTPS) resolve the path here; paths no pattern knows share
    one label, so junk URLs cannot grow the metric.
    """
    cached = getattr(request, "_signet_route", None)
    if cached is not None:
        return cached
    match = getattr(request, "resolver_match", None)
    if match is None:
        if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
            match_route = STATIC
        else:
            try:
                match_route = resolve(request.path_info).route
            except Resolver404:
                match_route = UNMATCHED
    else:
        match_route = match.route
    request._signet_route = match_route or UNMATCHED
    return request._signet_route


def method_label(method: str | None) -> str:
    return method if method in _METHODS else OTHER


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # labels() validates and locks on every call; the label sets are
        # bounded (routes x methods x statuses), so their children are kept.
        self.children: dict[tuple[str, str, int], tuple] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        key = (route_of(request), method_label(request.method), response.status_code)
        children = self.children.get(key)
        if children is None:
            labels = (key[0], key[1], str(key[2]))
            children = HTTP_REQUESTS.labels(*labels), HTTP_LATENCY.labels(*labels)
            self.children[key] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - start)
        return response


# --- Auth events ------------------------------------------------------------


@cache
def _accepted_families(chains: tuple[str, ...]) -> frozenset[str]:
    return frozenset(chain.split(":", 1)[0] for chain in chains)


def chain_family(chain: str | None) -> str:
    """`eip155:1` -> `eip155`; a namespace this deployment does not accept
    (possibly typed by a client) counts as `other`."""
    if not chain:
        return ""
    family = chain.split(":", 1)[0]
    return family if family in _accepted_families(tuple(settings.WALLET_CHAINS)) else OTHER


def _label(value: object) -> str:
    text = str(value or "")
    return text if not text or _LABEL.fullmatch(text) else OTHER


def count_auth_event(
    *, kind: str, outcome: str, method: str = "", chain: str = "", detail=None, **_: object
) -> None:
    """auth_event receiver (connected in accounts.audit)."""
    AUTH_EVENTS.labels(_label(kind), _label(outcome), _label(method), chain_family(chain)).inc()
    if kind == Event.RATE_LIMITED:
        RATE_LIMIT_HITS.labels(_label((detail or {}).get("action"))).inc()


# --- /metrics ---------------------------------------------------------------


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def scraper_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            return True
    networks = _networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    if not networks:
        return False
    # The client (X-Forwarded-For read through TRUSTED_PROXY_COUNT) and the
    # connection's own peer must both be inside: a scraper that reaches a web
    # container directly could otherwise name any address in X-Forwarded-For,
    # and a proxy inside the network could otherwise pass anyone's request on.
    addresses = {client_ip(request), request.META.get("REMOTE_ADDR", "")}
    return all(_inside(address, networks) for address in addresses)


def _inside(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def exposition() -> bytes:
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@csrf_exempt
def metrics_view(request: HttpRequest) -> HttpResponse:
    # Hidden rather than forbidden: a stranger learns nothing, not even that it exists.
    if request.method not in ("GET", "HEAD") or not scraper_allowed(request):
        return not_found_response()
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
