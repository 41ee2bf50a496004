"""Signing in with a wallet, linking and unlinking wallets."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import emails, usercache
from accounts.errors import ApiError, Code
from accounts.flows.reauthentication import require_reauthentication
from accounts.flows.signin import (
    Method,
    add_method,
    complete_login,
    end_sessions_created_with,
    method_record,
    wallet_origin,
)
from accounts.models import User
from accounts.ratelimit import Action, consume
from accounts.signals import Event, Outcome, emit
from wallets.chains.base import PublicKey
from wallets.challenges import IssuedChallenge, Process
from wallets.flows.challenge import VerifiedWallet, wallet_challenge_issue, wallet_verify
from wallets.flows.policy import chain_errors, resolve_chain
from wallets.models import Wallet

METHOD = Method.WALLET


def wallet_list(*, user: User) -> list[Wallet]:
    # Ordered by Wallet.Meta (created_at, pk); served from the prefetch when
    # the sign-in already read them (_owner_and_wallets).
    return list(user.wallets.all())


def _identity(verified: VerifiedWallet) -> dict[str, str]:
    """What names the wallet that signed: a key's address on any chain of its
    family, a contract wallet's only with the chain it proved itself on (the
    same address elsewhere may be another contract with other owners)."""
    return {
        "namespace": verified.namespace,
        "address": verified.address,
        "bound_chain": verified.bound_chain,
    }


def _owner_and_wallets(identity: dict[str, str]) -> Wallet | None:
    """The wallet, its user, and all the user's wallets, in one query: the
    sign-in answers with that list (prefetched on the user, as
    prefetch_related would), so it need not read it again."""
    related = {f"user__wallets__{name}": value for name, value in identity.items()}
    owned = list(Wallet.objects.select_related("user").filter(**related))
    key = tuple(identity.values())
    wallet = next((w for w in owned if (w.namespace, w.address, w.bound_chain) == key), None)
    if wallet is not None:
        for other in owned:
            other.user = wallet.user
        wallet.user._prefetched_objects_cache = {"wallets": owned}
    return wallet


def wallet_challenge_request(
    request: HttpRequest, *, process: str, **fields: str
) -> tuple[IssuedChallenge, str]:
    """Issue a challenge to this session (wallet_challenge_issue): 409 for a
    login one when signed in; a `connect` one (linking a wallet is a
    sensitive change) needs a recent authentication."""
    consume(request, Action.WALLET_CHALLENGE)
    user = request.user
    if process == Process.LOGIN and user.is_authenticated:
        raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
    if process == Process.CONNECT:
        require_reauthentication(request)
    return wallet_challenge_issue(process=process, **fields, user_id=user.pk)


def wallet_authenticate(
    request: HttpRequest,
    *,
    chain: str,
    address: str,
    message: str,
    signature: str,
    public_key: PublicKey = None,
) -> None:
    """Verify a signed challenge, then do what it was issued for: sign in, link,
    or reauthenticate.

    A refusal is reported as a failed `wallet_verify` event (the sign-in and
    the link report their own success).
    """
    consume(request, Action.WALLET_VERIFY)
    try:
        verified = wallet_verify(
            chain=chain,
            address=address,
            message=message,
            signature=signature,
            public_key=public_key,
        )
        _check_process(request, verified)
    except ApiError as error:
        code = error.errors[0]["code"]
        emit(request, Event.WALLET_VERIFY, outcome=Outcome.FAILURE, method=METHOD, code=code)
        raise
    process = verified.challenge.process
    if process == Process.LOGIN:
        wallet_login(request, verified)
    elif process == Process.REAUTHENTICATE:
        wallet_reauthenticate(request, user=request.user, verified=verified)
    else:
        wallet_link(request, user=request.user, verified=verified)


def _check_process(request: HttpRequest, verified: VerifiedWallet) -> None:
    user, issued = request.user, verified.challenge
    if issued.process == Process.LOGIN:
        if user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
    elif not (user.is_authenticated and user.pk == issued.user_id):
        # A connect or reauthenticate challenge completes only in the session
        # of the user it was issued to.
        raise ApiError(
            400, Code.CHALLENGE_NOT_FOUND, "This challenge was not issued to you.", "message"
        )
    elif issued.process == Process.CONNECT:
        require_reauthentication(request)  # linking is a sensitive change


def _touch(wallet: Wallet, chain: str) -> None:
    wallet.chain, wallet.last_used_at = chain, timezone.now()
    Wallet.objects.filter(pk=wallet.pk).update(chain=chain, last_used_at=wallet.last_used_at)
    usercache.changed(wallet.user_id)  # update() sends no signal; the user's payload lists it


def _wallet_create(user: User, verified: VerifiedWallet) -> Wallet:
    now = timezone.now()
    return Wallet.objects.create(
        user=user,
        **_identity(verified),
        chain=verified.chain,
        created_at=now,
        last_used_at=now,
    )


def wallet_login(request: HttpRequest, verified: VerifiedWallet) -> None:
    """Sign the wallet's user in; a wallet seen for the first time signs up a
    wallet-only user (no email, unusable password) while signup is open."""
    wallet = _owner_and_wallets(_identity(verified))
    if wallet is None:
        wallet = _wallet_user_create(request, verified)
    else:
        if not wallet.user.is_active:
            raise ApiError(403, Code.PERMISSION_DENIED, "This account is inactive.")
        _touch(wallet, verified.chain)
    complete_login(request, user=wallet.user, record=wallet_method_record(verified))


def wallet_method_record(verified: VerifiedWallet, **extra) -> dict:
    """The session's `methods` entry: what signed, and the Request ID and
    Resources (e.g. ReCaps) the signed message carried, for the dApp to act on."""
    record = method_record(Method.WALLET, chain=verified.chain, address=verified.address, **extra)
    if verified.request_id is not None:
        record["request_id"] = verified.request_id
    if verified.resources:
        record["resources"] = list(verified.resources)
    return record


def _wallet_user_create(request: HttpRequest, verified: VerifiedWallet) -> Wallet:
    if not settings.ACCOUNT_SIGNUP_OPEN:
        raise ApiError(403, Code.SIGNUP_CLOSED, "Signup is closed.")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=None, password=None)
            wallet = _wallet_create(user, verified)
        emit(request, Event.SIGNUP, user=user, method=METHOD, chain=verified.chain)
        return wallet
    except IntegrityError:
        # The same wallet signed up concurrently through another challenge:
        # that sign-up won (and its user is the only one left), so sign in to it.
        wallet = Wallet.objects.select_related("user").get(**_identity(verified))
        _touch(wallet, verified.chain)
        return wallet


def wallet_link(request: HttpRequest, *, user: User, verified: VerifiedWallet) -> Wallet:
    """Link the wallet to `user`; 409 when another user holds it. Idempotent."""
    lookup = _identity(verified)
    wallet = Wallet.objects.filter(**lookup).first()
    if wallet is None:
        try:
            with transaction.atomic():
                wallet = _wallet_create(user, verified)
            emit(request, Event.WALLET_LINKED, user=user, method=METHOD, chain=verified.chain)
            return wallet
        except IntegrityError:
            wallet = Wallet.objects.get(**lookup)  # linked concurrently: by whom?
    if wallet.user_id != user.pk:
        raise ApiError(
            409, Code.WALLET_ALREADY_LINKED, "This wallet is linked to another account.", "address"
        )
    _touch(wallet, verified.chain)
    return wallet


def wallet_reauthenticate(request: HttpRequest, *, user: User, verified: VerifiedWallet) -> None:
    """Step-up by signature: one of the user's own wallets signed a fresh challenge."""
    # The wallet that signed, by its full identity: a contract wallet proves
    # itself only on its own chain (the same address elsewhere is another
    # contract, perhaps someone else's).
    wallet = Wallet.objects.filter(user=user, **_identity(verified)).first()
    if wallet is None:
        raise ApiError(404, Code.NOT_FOUND, "No such wallet on your account.", "address")
    _touch(wallet, verified.chain)
    record = method_record(
        Method.WALLET, chain=verified.chain, address=verified.address, reauthenticated=True
    )
    add_method(request, record)
    emit(request, Event.REAUTHENTICATED, user=user, method=METHOD, chain=verified.chain)


def has_password_login(user: User) -> bool:
    """Can `user` sign in with email and password? Only with a usable password
    and an address it owns: the backend signs in by verified addresses alone
    (accounts.backends), so an unverified one, primary or not, is no way in."""
    return user.has_usable_password() and emails.has_login_address(user)


def wallet_removable(wallet: Wallet) -> bool:
    """Would its user keep a way to sign in without `wallet`?"""
    others = Wallet.objects.filter(user_id=wallet.user_id).exclude(pk=wallet.pk)
    return others.exists() or has_password_login(wallet.user)


def wallet_unlink(request: HttpRequest, *, user: User, chain: str, address: str) -> None:
    """Unlink one of `user`'s wallets, named by any chain of its family."""
    family, chain = resolve_chain(chain, configured_only=False)
    with chain_errors():
        address = family.canonical_address(chain, address)
    # A contract wallet only by its own chain; one of those before a key's wallet.
    wallet = (
        Wallet.objects.filter(
            user=user, namespace=family.namespace, address=address, bound_chain__in=(chain, "")
        )
        .order_by("-bound_chain")
        .first()
    )
    if wallet is None:
        raise ApiError(404, Code.NOT_FOUND, "No such wallet on your account.", "address")
    wallet_remove(request, wallet=wallet)


def wallet_remove(request: HttpRequest | None, *, wallet: Wallet) -> None:
    """Delete `wallet` unless it is its user's last way to sign in (409), and
    end the sessions it signed in, all but the current one (API.md v1.1)."""
    with transaction.atomic():
        # Serialise a user's unlinks: two at once could each leave the other last.
        wallet.user = User.objects.select_for_update().get(pk=wallet.user_id)
        if not wallet_removable(wallet):
            raise ApiError(
                409,
                Code.LAST_LOGIN_METHOD,
                "This wallet is the only way left to sign in to this account; add another first.",
                "address",
            )
        Wallet.objects.filter(pk=wallet.pk).delete()
        # Inside the transaction: ending sessions needs Redis, and a 503 keeps the wallet.
        session = getattr(request, "session", None)
        end_sessions_created_with(
            [wallet.user_id],
            wallet_origin(wallet.namespace, wallet.address),
            keep=session.session_key if session is not None else None,
        )
    emit(
        request, Event.WALLET_UNLINKED, user=wallet.user, method=METHOD, chain=wallet.chain,
        address=wallet.address,
    )  # fmt: skip
