"""Routes under /_allauth/{app,browser}/v1/ (the same views for both clients)."""

from __future__ import annotations

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("config", views.ConfigApi.as_view(), name="config"),
    path("auth/session", views.SessionApi.as_view(), name="session"),
    path("auth/signup", views.SignupApi.as_view(), name="signup"),
    path("auth/login", views.LoginApi.as_view(), name="login"),
    path("auth/code/request", views.RequestLoginCodeApi.as_view(), name="request_login_code"),
    path("auth/code/confirm", views.ConfirmLoginCodeApi.as_view(), name="confirm_login_code"),
    path("auth/code/resend", views.ResendLoginCodeApi.as_view(), name="resend_login_code"),
    path("auth/email/verify", views.VerifyEmailApi.as_view(), name="verify_email"),
    path(
        "auth/email/verify/resend",
        views.ResendVerificationApi.as_view(),
        name="resend_verification",
    ),
    path(
        "auth/password/request",
        views.RequestPasswordResetApi.as_view(),
        name="request_password_reset",
    ),
    path("auth/password/reset", views.ResetPasswordApi.as_view(), name="reset_password"),
    path("auth/reauthenticate", views.ReauthenticateApi.as_view(), name="reauthenticate"),
    path(
        "auth/reauthenticate/code/request",
        views.RequestReauthenticationCodeApi.as_view(),
        name="request_reauthentication_code",
    ),
    path(
        "auth/reauthenticate/code/confirm",
        views.ConfirmReauthenticationCodeApi.as_view(),
        name="confirm_reauthentication_code",
    ),
    path(
        "auth/reauthenticate/code/resend",
        views.ResendReauthenticationCodeApi.as_view(),
        name="resend_reauthentication_code",
    ),
    path("auth/sessions", views.SessionsApi.as_view(), name="sessions"),
    path("account/password/change", views.ChangePasswordApi.as_view(), name="change_password"),
    path("account/email", views.ManageEmailApi.as_view(), name="manage_email"),
]
