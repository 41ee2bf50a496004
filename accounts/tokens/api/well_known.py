"""Routes under /.well-known/: the access tokens' public keys."""

from __future__ import annotations

from django.urls import path

from accounts.tokens.api import views

urlpatterns = [path("jwks.json", views.jwks, name="jwks")]
