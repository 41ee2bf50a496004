"""One spelling of an email address (accounts.emails says who owns one).

`normalize_email` is the only spelling Signet stores, looks up and keys rate
limits on (signup, login, password reset, adding an address, the limiter):

- NFKC first, so compatibility forms become the characters they look like
  (fullwidth letters, U+FF45 for `e`; the Kelvin sign U+212A; long s U+017F);
- the local part must then be ASCII. Django's validator lets four non-ASCII
  letters through (U+0130 `İ`, U+0131, U+017F, U+212A: its case-insensitive
  `[A-Z]` matches them), and
  Python's `lower()` and PostgreSQL's `LOWER()` disagree on them (`kİm` is
  `ki̇m` to one and `kim` to the other): a rate-limit key and an account
  lookup that part ways multiply the per-account limit;
- the domain is lowercased and IDNA 2008-encoded (A-labels), so `bücher.de`
  and `xn--bcher-kva.de` are one domain, and what IDNA 2008 refuses (a soft
  hyphen U+00AD, other invisible or disallowed characters) is refused, not
  silently dropped: a look-alike never becomes a second account.

The result is ASCII, so Python and PostgreSQL compare it alike. The local
part keeps its case (as typed) and is compared case-insensitively.
"""

from __future__ import annotations

import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# The column's length (RFC 5321's path limit); checked before NFKC (which may
# lengthen a string) and after it.
MAX_LENGTH = 254


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str) -> str:
    """The canonical spelling of `raw`, or InvalidEmail."""
    if not isinstance(raw, str) or len(raw) > MAX_LENGTH:
        raise InvalidEmail(raw)
    text = unicodedata.normalize("NFKC", raw.strip())
    local, at, domain = text.rpartition("@")
    if not (at and local and domain and local.isascii()):
        raise InvalidEmail(raw)
    try:
        domain = idna.encode(domain.lower(), uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise InvalidEmail(raw) from None
    email = f"{local}@{domain}"
    if len(email) > MAX_LENGTH:
        raise InvalidEmail(raw)
    try:
        validate_email(email)  # NFKC may have made an `@` or a space
    except ValidationError:
        raise InvalidEmail(raw) from None
    return email


def email_key(email: str) -> str:
    """What two spellings of one normalized address have in common."""
    return email.lower()
