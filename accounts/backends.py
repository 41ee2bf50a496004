"""The authentication backend: Django's ModelBackend, with `get_user` served
from the user cache (accounts.usercache) so authenticated reads need no SQL.

`authenticate()` is ModelBackend's, unchanged (one database read per password
check). Django's `get_user()` still compares the session's password hash with
the user it gets here: a password change bumps the cache before it is
written, so that check sees the new hash.
"""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts import usercache


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any):
        user = usercache.cached_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def get_user(request: HttpRequest):
    """django.contrib.auth.get_user (session hash check and all), letting the
    backend use the user entry the session read already fetched from Redis."""
    with usercache.prefetched(getattr(request.session, "user_prefetch", None)):
        return auth.get_user(request)
