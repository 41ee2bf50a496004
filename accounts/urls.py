"""Signet's own routes below the project's: the probes, the metrics and the
headless API for both clients, with the envelope's 404 for anything else
under the API prefix. config.urls includes this module by its dotted name."""

from __future__ import annotations

from django.urls import include, path, re_path

from accounts import health, metrics
from accounts.api.fallback import not_found
from accounts.clients import Client

api_patterns = ["accounts.api.urls", "accounts.mfa.api.urls", "wallets.api.urls"]

urlpatterns = [
    path("health", health.ready, name="health"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
]
# allauth has these for one client only.
only_patterns = {
    Client.APP: ["accounts.tokens.api.urls"],
    Client.BROWSER: ["accounts.mfa.api.trust_urls"],
}
for client in Client:
    for module in api_patterns + only_patterns[client]:
        urlpatterns.append(path(f"_allauth/{client}/v1/", include(module)))
# Anything else under the API prefix still answers in the envelope.
urlpatterns.append(re_path(r"^_allauth/", not_found))
