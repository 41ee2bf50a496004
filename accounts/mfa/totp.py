"""TOTP (RFC 6238) with RFC 6238's defaults: HMAC-SHA-1, 6 digits, 30 s steps,
accepted one step either side of now for clock drift.

pyotp computes the codes (a small, well-kept implementation of RFC 4226/6238);
this module adds what pyotp leaves to its caller: which step matched, so
that a code is accepted once (RFC 6238 5.2: "the verifier MUST NOT accept the
second attempt of the OTP after the successful validation has been issued for
the first OTP"), and the provisioning URI and QR code shown at set-up.
"""

from __future__ import annotations

import base64
import hmac
import io
import time

import pyotp
from django.db.models import Q
from django.utils import timezone

from accounts.mfa import crypto
from accounts.mfa.models import Authenticator

DIGITS = 6
PERIOD = 30
TOLERANCE = 1  # steps accepted before and after the current one
SECRET_LENGTH = 32  # base32 characters: 160 bits, RFC 4226's recommended key size


def secret_generate() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def normalize(code: str) -> str:
    # Authenticator apps show "123 456"; people paste it so.
    return "".join(code.split()).replace("-", "")


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code `code` is, within the tolerance; else None."""
    code = normalize(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD)
    current = int((time.time() if now is None else now) // PERIOD)
    for step in range(current - TOLERANCE, current + TOLERANCE + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def secret_of(authenticator: Authenticator) -> str:
    return crypto.decrypt(authenticator.data["secret"])


def totp_use(authenticator: Authenticator, code: str) -> bool:
    """Accept `code` for this authenticator at most once.

    The step only moves forward, by one conditional UPDATE: a replayed code,
    or an older one after a newer was used, matches no row; of two requests
    racing with the same code, exactly one updates it.
    """
    step = matching_step(secret_of(authenticator), code)
    if step is None:
        return False
    now = timezone.now()
    won = (
        Authenticator.objects.filter(pk=authenticator.pk)
        .filter(Q(counter__isnull=True) | Q(counter__lt=step))
        .update(counter=step, last_used_at=now)
    )
    if won:
        authenticator.counter, authenticator.last_used_at = step, now
    return bool(won)


def provisioning_uri(secret: str, *, label: str, issuer: str) -> str:
    """The `otpauth://totp/...` URI authenticator apps scan (Google's Key URI format)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=label, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as an SVG QR code. allauth's own pages render the same (its
    `totp_svg`, from the same `qrcode` package); headless clients that draw
    their own from `totp_url` can ignore it."""
    import qrcode  # only set-up pages need it
    from qrcode.image.svg import SvgPathImage

    buffer = io.BytesIO()
    qrcode.make(uri, image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue().decode()


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
