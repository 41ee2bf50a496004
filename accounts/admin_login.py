"""The admin's login form, rate limited as the API's login is."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from accounts import emails
from accounts.errors import ApiError
from accounts.ratelimit import Action, consume_all

TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Please try again later."


class RateLimitedAdminLoginForm(AdminAuthenticationForm):
    """/admin/login/ counts in the API's login buckets (accounts.ratelimit):
    every attempt per IP, failures per IP and per account. One budget for
    both doors, so a guesser gains nothing by switching; once it is spent,
    even the right password is refused until the window passes."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        if username is None or not self.cleaned_data.get("password"):
            return super().clean()
        try:
            # The API's spelling of the account (accounts.emails), so that `kİm@` and
            # `kim@` are one budget here as there.
            account = emails.normalize_email(username)
        except emails.InvalidEmail:
            account = username
        try:
            _all, failed = consume_all(
                self.request, [(Action.LOGIN, None), (Action.LOGIN_FAILED, account)]
            )
        except ApiError:
            raise forms.ValidationError(TOO_MANY_ATTEMPTS, code="rate_limited") from None
        try:
            return super().clean()
        finally:
            if self.user_cache is not None:  # the password was right: not a failure
                failed.refund()
