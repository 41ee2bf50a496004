"""Project routes: admin, the schema and its docs, and Signet's own routes
(accounts.urls: health, metrics, the headless API for both clients)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path(".well-known/", include("accounts.tokens.api.well_known")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its init script from `?script`, not inline, so the
    # docs page's CSP needs no 'unsafe-inline' for scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
]

# Errors Django answers itself are the envelope too (but under /admin/).
handler400 = "accounts.security.bad_request"
handler403 = "accounts.security.permission_denied"
handler404 = "accounts.security.page_not_found"
handler500 = "accounts.security.server_error"
