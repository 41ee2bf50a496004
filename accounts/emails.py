"""Who an email address belongs to; its one spelling is accounts.email_spelling's
(re-exported here: `normalize_email`, `InvalidEmail`, `email_key`).

Ownership (API.md v1.1): an address belongs to the one user who verified it.
An unverified row is a claim: any number of users may hold one, and none of
them receives a reset through it or gets it as `User.email`. Nor does one
sign in by password with it, a pending signup aside (the latest one, while
nobody owns the address): with mandatory verification that only leads to
the verification mail; with optional verification it signs in to the
claimer's own account, as the signup itself did, and never to anyone else's.
"""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from accounts.email_spelling import InvalidEmail, email_key, normalize_email
from accounts.errors import ApiError, Code
from accounts.models import EmailAddress


def normalized(raw: str, param: str = "email") -> str:
    """`normalize_email` for request input: 400 `invalid` on `param` if it fails."""
    try:
        return normalize_email(raw)
    except InvalidEmail:
        raise ApiError(400, Code.INVALID, "Enter a valid email address.", param) from None


def addresses_of(email: str) -> QuerySet[EmailAddress]:
    """Every row (owner's and claims) of a normalized address; uses the
    Lower(email) indexes."""
    return EmailAddress.objects.alias(email_ci=Lower("email")).filter(email_ci=email_key(email))


def owner_address(email: str) -> EmailAddress | None:
    """The verified row of `email`, with its user: the address's owner."""
    return addresses_of(email).filter(verified=True).select_related("user").first()


def _pending_signup() -> Q:
    """A signup still waiting for its address to be verified: an active user
    with a password whose primary address is an unverified claim of it."""
    return Q(verified=False, primary=True, user__is_active=True) & ~Q(
        user__password__startswith=UNUSABLE_PASSWORD_PREFIX
    )


def password_login_address(email: str, *, pending_signup: bool = False) -> EmailAddress | None:
    """The address a password sign-in as `email` checks the password of: its
    owner's or, with `pending_signup` and while nobody owns it, its latest
    pending signup's.

    One query either way (known and unknown addresses cost the same), and
    only one pending signup is considered, so a login costs one password
    hash however many claims exist; the latest, so that someone who signs
    up again is the one found.
    """
    match = (Q(verified=True) | _pending_signup()) if pending_signup else Q(verified=True)
    return (
        addresses_of(email)
        .filter(match)
        .select_related("user")
        .order_by("-verified", "-created_at", "-pk")
        .first()
    )


def has_login_address(user) -> bool:
    """Whether `user` has an address to sign in with by password (a verified one)."""
    return EmailAddress.objects.filter(user=user, verified=True).exists()
