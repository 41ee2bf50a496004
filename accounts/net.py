"""Who the client is: its address, and the network a per-IP rate limit counts."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# An IPv6 client is given a /64 (RFC 6177, one LAN) and picks any address in it
# (privacy extensions, or at will): counting /128s would hand it 2**64 budgets.
IPV6_RATE_LIMIT_PREFIX = 64


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies sit in front.

    With N trusted proxies, the client is the N-th address from the right of
    X-Forwarded-For: entries further left were written by the client itself
    and cannot be trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            return _valid_ip(hops[-count]) or remote
    return _valid_ip(remote) or remote


def rate_limit_network(ip: str) -> str:
    """What a per-IP rate limit counts for `ip`: an IPv4 address itself, an
    IPv6 address's /64 (an IPv4-mapped one as the IPv4 address it is)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_RATE_LIMIT_PREFIX), strict=False))
    return str(address)
