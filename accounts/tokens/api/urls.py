"""Routes under /_allauth/{app,browser}/v1/ (allauth's headless token path)."""

from __future__ import annotations

from django.urls import path

from accounts.tokens.api import views

urlpatterns = [
    path("tokens/refresh", views.RefreshTokenApi.as_view(), name="tokens_refresh"),
]
