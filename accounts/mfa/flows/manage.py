"""Setting up and removing second factors (allauth's mfa flows, headless).

Every change needs a recent authentication (reauthentication.py) and emits an
audit event. A user's authenticator rows change under a lock on the user row,
so two concurrent changes cannot leave recovery codes without a TOTP or two
sets of codes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.errors import ApiError, Code
from accounts.flows.reauthentication import require_reauthentication
from accounts.mfa import crypto, recovery_codes, totp
from accounts.mfa.models import Authenticator
from accounts.models import EmailAddress, User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, emit

Type = Authenticator.Type
METHOD = "mfa"
# The secret shown by GET /account/authenticators/totp, until activation.
SESSION_SECRET = "signet.mfa.totp_secret"


def authenticator_get(user, type_: str) -> Authenticator | None:
    return Authenticator.objects.filter(user_id=user.pk, type=type_).first()


def authenticator_list(*, user) -> list[Authenticator]:
    return list(Authenticator.objects.filter(user_id=user.pk).order_by("created_at", "pk"))


def can_add_authenticator(user) -> None:
    """allauth's rule: no second factor while an address is unverified, or a
    squatter could sign up with someone's address, add a TOTP and lock the
    real owner out for good."""
    if EmailAddress.objects.filter(user_id=user.pk, verified=False).exists():
        raise ApiError(
            409,
            Code.UNVERIFIED_EMAIL,
            "You cannot activate two-factor authentication until you have verified "
            "your email address.",
        )


def totp_label(user) -> str:
    return user.email or user.display


def totp_setup(request: HttpRequest, *, user) -> str:
    """A new secret for the set-up page, held (encrypted) in the session until activation."""
    can_add_authenticator(user)
    secret = totp.secret_generate()
    request.session[SESSION_SECRET] = crypto.encrypt(secret)
    return secret


def _session_secret(token: str | None) -> str | None:
    try:
        return crypto.decrypt(token) if token else None
    except crypto.InvalidToken:
        return None  # encrypted under a key rotated away since: set up again


def _incorrect_code() -> ApiError:
    return ApiError(400, Code.INCORRECT_CODE, "Incorrect code.", "code")


def totp_activate(request: HttpRequest, *, user, code: str) -> Authenticator:
    """Activate the secret the set-up page showed; recovery codes come with
    the first factor, as in allauth."""
    require_reauthentication(request)
    can_add_authenticator(user)
    token = request.session.get(SESSION_SECRET)
    if authenticator_get(user, Type.TOTP) is not None:
        raise ApiError(409, Code.CONFLICT, "TOTP is already active.")
    attempt = consume(request, Action.MFA_AUTHENTICATE, user=user)
    secret = _session_secret(token)
    step = totp.matching_step(secret, code) if secret else None
    if step is None:
        raise _incorrect_code()
    attempt.refund()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        authenticator = Authenticator.objects.create(
            user=user, type=Type.TOTP, data={"secret": crypto.encrypt(secret)}, counter=step
        )
        codes = None
        if authenticator_get(user, Type.RECOVERY_CODES) is None:
            codes = _recovery_codes_create(user)
    request.session.pop(SESSION_SECRET, None)
    emit(request, Event.MFA_AUTHENTICATOR_ADDED, user=user, method=METHOD, type=Type.TOTP)
    if codes is not None:
        emit(
            request, Event.MFA_AUTHENTICATOR_ADDED, user=user, method=METHOD,
            type=Type.RECOVERY_CODES,
        )  # fmt: skip
    return authenticator


def totp_deactivate(request: HttpRequest, *, user) -> None:
    """Remove the TOTP, and the recovery codes it leaves dangling (allauth)."""
    if authenticator_get(user, Type.TOTP) is None:
        return  # allauth answers 200 all the same
    require_reauthentication(request)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        removed = Authenticator.objects.filter(user_id=user.pk, type=Type.TOTP).delete()[0]
        dangling = Authenticator.objects.filter(user_id=user.pk)
        dangling_types = []
        if not dangling.exclude(type=Type.RECOVERY_CODES).exists():
            dangling_types = list(dangling.values_list("type", flat=True))
            dangling.delete()
    for type_ in [Type.TOTP] * bool(removed) + dangling_types:
        emit(request, Event.MFA_AUTHENTICATOR_REMOVED, user=user, method=METHOD, type=type_)


def _recovery_codes_create(user) -> list[str]:
    codes = recovery_codes.codes_generate(settings.MFA_RECOVERY_CODE_COUNT)
    Authenticator.objects.create(
        user=user, type=Type.RECOVERY_CODES, data=recovery_codes.recovery_data(codes)
    )
    return codes


def recovery_codes_generate(request: HttpRequest, *, user) -> tuple[Authenticator, list[str]]:
    """A new set of codes, the old set void; only beside another factor."""
    require_reauthentication(request)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        others = Authenticator.objects.filter(user_id=user.pk).exclude(type=Type.RECOVERY_CODES)
        if not others.exists():
            raise ApiError(
                400,
                Code.CANNOT_GENERATE_RECOVERY_CODES,
                "You cannot generate recovery codes without having two-factor "
                "authentication enabled.",
            )
        Authenticator.objects.filter(user_id=user.pk, type=Type.RECOVERY_CODES).delete()
        codes = _recovery_codes_create(user)
    emit(request, Event.MFA_RECOVERY_CODES_GENERATED, user=user, method=METHOD)
    return authenticator_get(user, Type.RECOVERY_CODES), codes


def recovery_codes_view(request: HttpRequest, *, user) -> tuple[Authenticator, list[str]] | None:
    """The codes and, the first time after they were generated, the unused
    codes themselves (then only their hashes remain). None: no codes."""
    authenticator = authenticator_get(user, Type.RECOVERY_CODES)
    if authenticator is None:
        return None
    require_reauthentication(request)
    codes = recovery_codes.pending_codes(authenticator.data)
    if "pending" in authenticator.data:
        with transaction.atomic():
            locked = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
            locked.data.pop("pending", None)
            locked.data.pop("pending_until", None)
            locked.save(update_fields=["data"])
        authenticator = locked
    return authenticator, codes or []


def recovery_code_use(authenticator: Authenticator, code: str) -> bool:
    """Spend one unused code; the row lock makes it single use under races."""
    if recovery_codes.matching_index(authenticator.data, code) is None:
        return False  # the common wrong-code case takes no lock
    with transaction.atomic():
        locked = Authenticator.objects.select_for_update().filter(pk=authenticator.pk).first()
        index = None if locked is None else recovery_codes.matching_index(locked.data, code)
        if index is None:
            return False
        locked.data["used"] = [*locked.data.get("used", []), index]
        locked.last_used_at = timezone.now()
        locked.save(update_fields=["data", "last_used_at"])
    authenticator.data, authenticator.last_used_at = locked.data, locked.last_used_at
    return True
