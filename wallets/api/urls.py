"""Wallet routes under /_allauth/{app,browser}/v1/."""

from __future__ import annotations

from django.urls import path

from wallets.api import views

urlpatterns = [
    path("auth/wallet/challenge", views.WalletChallengeApi.as_view(), name="wallet_challenge"),
    path("auth/wallet/verify", views.WalletVerifyApi.as_view(), name="wallet_verify"),
    path("account/wallets", views.ManageWalletsApi.as_view(), name="manage_wallets"),
]
