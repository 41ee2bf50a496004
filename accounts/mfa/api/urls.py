"""Routes under /_allauth/{app,browser}/v1/ (allauth's headless mfa paths)."""

from __future__ import annotations

from django.urls import path

from accounts.mfa.api import views

urlpatterns = [
    path("auth/2fa/authenticate", views.AuthenticateApi.as_view(), name="mfa_authenticate"),
    path("auth/2fa/reauthenticate", views.ReauthenticateApi.as_view(), name="mfa_reauthenticate"),
    path("account/authenticators", views.AuthenticatorsApi.as_view(), name="mfa_authenticators"),
    path("account/authenticators/totp", views.TotpApi.as_view(), name="mfa_totp"),
    path(
        "account/authenticators/recovery-codes",
        views.RecoveryCodesApi.as_view(),
        name="mfa_recovery_codes",
    ),
    path("account/authenticators/webauthn", views.WebAuthnApi.as_view(), name="mfa_webauthn"),
    path(
        "auth/webauthn/authenticate",
        views.WebAuthnAuthenticateApi.as_view(),
        name="mfa_webauthn_authenticate",
    ),
    path("auth/webauthn/login", views.WebAuthnLoginApi.as_view(), name="mfa_webauthn_login"),
    path("auth/webauthn/signup", views.WebAuthnSignupApi.as_view(), name="mfa_webauthn_signup"),
    path(
        "auth/webauthn/reauthenticate",
        views.WebAuthnReauthenticateApi.as_view(),
        name="mfa_webauthn_reauthenticate",
    ),
]
