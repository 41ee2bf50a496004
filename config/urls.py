"""Project routes: the headless API for both clients, admin, health, metrics, schema."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api.fallback import not_found
from accounts.clients import Client
from config import health, metrics, security

api_patterns = [
    "accounts.api.urls",
    "accounts.mfa.api.urls",
    "wallets.api.urls",
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health.ready, name="health"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path(".well-known/", include("accounts.tokens.api.well_known")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from `?script`, not inline, so the
    # docs page's CSP needs no 'unsafe-inline' for scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]
# allauth has these for the app client only.
app_only_patterns = ["accounts.tokens.api.urls"]
for client in Client:
    for module in api_patterns + (app_only_patterns if client is Client.APP else []):
        urlpatterns.append(path(f"_allauth/{client}/v1/", include(module)))
# Anything else under the API prefix still answers in the envelope.
urlpatterns.append(re_path(r"^_allauth/", not_found))

# Errors Django answers itself are the envelope too (but under /admin/).
handler400 = security.bad_request
handler403 = security.permission_denied
handler404 = security.page_not_found
handler500 = security.server_error
