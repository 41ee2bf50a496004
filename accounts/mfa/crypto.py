"""Encryption at rest for MFA secrets: Fernet (AES-128-CBC + HMAC-SHA256,
from `cryptography`) under the keys in MFA_ENCRYPTION_KEY.

The setting is a list: the first key encrypts, every key decrypts, so a key
is rotated by putting a new one first and dropping the old one once no
stored secret needs it. Production requires the variable; local and test
settings derive a key from SECRET_KEY (config.settings.base.dev_mfa_key).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "fernet"]


@lru_cache(maxsize=4)
def _build(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("MFA_ENCRYPTION_KEY: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEY: each key must be 32 url-safe base64-encoded bytes "
            '(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())").'
        ) from None


def fernet() -> MultiFernet:
    keys = settings.MFA_ENCRYPTION_KEY
    return _build(tuple(keys) if isinstance(keys, list | tuple) else (keys,))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()
