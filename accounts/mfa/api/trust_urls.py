"""The browser client's own MFA route (allauth: /_allauth/browser/v1/auth/2fa/trust;
the app client has none, it keeps no cookies)."""

from __future__ import annotations

from django.urls import path

from accounts.mfa.api import views

urlpatterns = [path("auth/2fa/trust", views.TrustApi.as_view(), name="mfa_trust")]
