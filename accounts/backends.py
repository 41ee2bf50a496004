"""The authentication backend: Django's ModelBackend, signing in by an
address the user *owns*, with `get_user` served from the user cache
(accounts.usercache) so authenticated reads need no SQL.

`authenticate()` checks the password of the address's verified owner
(accounts.emails): an unverified claim never signs anyone in, whoever holds
it, and the admin login goes through here too. With `pending_signup=True`
(the API's login) an address nobody owns yet falls back to its latest
pending signup (the claimer's own account, which the login flow sends on
to email verification when that is mandatory). Either way one password
hash runs, also for an unknown address (ModelBackend's timing defence).
The user carries the address it was found by as `login_address`.

Django's `get_user()` still compares the session's password hash with the
user it gets here: a password change bumps the cache before it is written,
so that check sees the new hash.
"""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import emails, usercache
from accounts.models import User


class CachedModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        *,
        pending_signup: bool = False,
        **kwargs: Any,
    ):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            email = emails.normalize_email(username)
        except emails.InvalidEmail:
            address = None
        else:
            address = emails.password_login_address(email, pending_signup=pending_signup)
        if address is None:
            User().set_password(password)  # the same cost as a real check
            return None
        user = address.user
        if user.check_password(password) and self.user_can_authenticate(user):
            user.login_address = address
            return user
        return None

    def get_user(self, user_id: Any):
        user = usercache.cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def get_user(request: HttpRequest):
    """django.contrib.auth.get_user (session hash check and all), letting the
    backend use the user entry the session read already fetched from Redis."""
    with usercache.prefetched(getattr(request.session, "user_prefetch", None)):
        return auth.get_user(request)
