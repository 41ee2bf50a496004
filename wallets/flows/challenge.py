"""Issue a sign-in challenge; verify the message signed for it.

Verification is strict: the signed text must parse as the family's sign-in
message, and each field must equal what was issued. A client or wallet may
build the text itself from the nonce (viem's createSiweMessage, Phantom's
signIn, WalletConnect's formatMessage); the server binds what decides whose
sign-in it is (domain, address, chain, URI, nonce, time window) and leaves the
rest to the dApp: any statement (unless WALLET_STATEMENT_REQUIRED), and a
Request ID or Resources (ReCaps), which the sign-in reports back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from accounts.errors import ApiError, Code
from config.patterns import request_pattern
from wallets.chains import Challenge, MessageFields
from wallets.challenges import (
    BOUND_TO_USER,
    IssuedChallenge,
    Process,
    challenge_consume,
    challenge_store,
    new_nonce,
)
from wallets.flows.policy import chain_errors, resolve_chain, resolve_domain
from wallets.models import Wallet

# Clock skew tolerated between this server, the client and the wallet.
LEEWAY = timedelta(seconds=60)
# A nonce collision among 2**131 is not going to happen; do not loop forever if it does.
_STORE_ATTEMPTS = 3
# RFC 3986 characters only: the URI goes verbatim into the signed text.
_URI_CHARS = request_pattern(
    "wallet.challenge_uri", r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", attacks=("a/", "%")
)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _error(code: str, message: str, param: str | None = "message") -> ApiError:
    return ApiError(400, code, message, param)


def wallet_of_user(*, user_id: int | None, namespace: str, address: str, chain: str) -> Wallet:
    """The user's wallet (namespace, canonical address) usable on `chain`: a key's
    on any chain of its family, a contract wallet's only on the chain it was
    proven on; 404 when there is none."""
    wallet = Wallet.objects.filter(
        user_id=user_id, namespace=namespace, address=address, bound_chain__in=(chain, "")
    ).first()
    if wallet is None or user_id is None:
        raise ApiError(404, Code.NOT_FOUND, "No such wallet on your account.", "address")
    return wallet


def default_uri(domain: str) -> str:
    host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
    scheme = "http" if host in _LOCAL_HOSTS else "https"
    return f"{scheme}://{domain}"


def _check_uri(uri: str, domain: str) -> str:
    """The URI the user signs in to must be an http(s) URI on the signed domain."""
    parts = urlsplit(uri) if _URI_CHARS.fullmatch(uri) else None
    if parts is None or parts.scheme not in ("http", "https") or parts.netloc != domain:
        raise _error(Code.INVALID, f"The URI must be an http(s) URI on {domain}.", "uri")
    return uri


def wallet_challenge_issue(
    *,
    process: str,
    chain: str,
    address: str,
    domain: str | None = None,
    uri: str | None = None,
    user_id: int | None = None,
) -> tuple[IssuedChallenge, str]:
    """Store a new challenge; return it with the message to sign.

    `user_id` is the signed-in user a `connect` or `reauthenticate` challenge
    is bound to; a `reauthenticate` one only for a wallet of that user's.
    """
    family, chain = resolve_chain(chain)
    with chain_errors():
        address = family.canonical_address(chain, address)
    if process == Process.REAUTHENTICATE:
        wallet_of_user(user_id=user_id, namespace=family.namespace, address=address, chain=chain)
    domain = resolve_domain(domain)
    uri = _check_uri(uri, domain) if uri else default_uri(domain)
    now = timezone.now()
    # Milliseconds, as Date.toISOString() writes them: libraries that compare the
    # text with one they build (verifySignIn) need the same spelling.
    issued_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    ttl = settings.WALLET_CHALLENGE_TTL
    for _attempt in range(_STORE_ATTEMPTS):
        issued = IssuedChallenge(
            nonce=new_nonce(),
            process=process,
            chain=chain,
            address=address,
            domain=domain,
            uri=uri,
            statement=settings.WALLET_STATEMENT or None,
            issued_at=issued_at,
            expires_at=issued_at + timedelta(seconds=ttl),
            user_id=user_id if process in BOUND_TO_USER else None,
        )
        message = family.build_message(Challenge(**_challenge_fields(issued)))
        if challenge_store(issued, ttl=ttl):
            return issued, message
    raise RuntimeError("could not store a wallet challenge under a fresh nonce")


def _challenge_fields(issued: IssuedChallenge) -> dict:
    names = ("chain", "address", "domain", "uri", "nonce", "issued_at", "expires_at", "statement")
    return {name: getattr(issued, name) for name in names}


@dataclass(frozen=True)
class VerifiedWallet:
    """A wallet whose key just signed `challenge`."""

    challenge: IssuedChallenge
    namespace: str
    chain: str
    address: str
    bound_chain: str = ""  # a contract wallet's chain; "" for a key's address
    request_id: str | None = None
    resources: tuple[str, ...] = ()


def wallet_verify(
    *, chain: str, address: str, message: str, signature: str, public_key=None
) -> VerifiedWallet:
    """Consume the challenge the message names and check the signature over it.

    The nonce is spent as soon as it is looked up, whatever happens next: a
    failed attempt cannot be retried with the same challenge.
    """
    family, chain = resolve_chain(chain)
    with chain_errors():
        address = family.canonical_address(chain, address)
        fields = family.parse_message(message)
    issued = challenge_consume(fields.nonce)
    if issued is None:
        raise _error(
            Code.CHALLENGE_NOT_FOUND, "This challenge is unknown, used or expired.", "message"
        )
    _check_request(issued, chain=chain, address=address)
    _check_fields(issued, fields)
    _check_window(issued, fields, timezone.now())
    with chain_errors():
        bound_chain = family.verify(
            chain=chain, address=address, message=message, signature=signature,
            public_key=public_key,
        )  # fmt: skip
    return VerifiedWallet(
        issued, family.namespace, chain, address, bound_chain=bound_chain or "",
        request_id=fields.request_id, resources=fields.resources,
    )  # fmt: skip


def _check_request(issued: IssuedChallenge, *, chain: str, address: str) -> None:
    if chain != issued.chain:
        raise _error(Code.CHAIN_MISMATCH, "The challenge was issued for another chain.", "chain")
    if address != issued.address:
        raise _error(
            Code.ADDRESS_MISMATCH, "The challenge was issued for another address.", "address"
        )


def _check_fields(issued: IssuedChallenge, fields: MessageFields) -> None:
    if fields.domain != issued.domain:
        raise _error(Code.DOMAIN_MISMATCH, "The message names another domain.")
    if fields.scheme is not None and fields.scheme != urlsplit(issued.uri).scheme:
        raise _error(Code.DOMAIN_MISMATCH, "The message names another scheme for the domain.")
    if fields.address != issued.address:
        raise _error(Code.ADDRESS_MISMATCH, "The message names another address.")
    # SIWS may leave the chain and URI out; the nonce binds them then.
    if fields.chain not in (None, issued.chain):
        raise _error(Code.CHAIN_MISMATCH, "The message names another chain.")
    if fields.uri not in (None, issued.uri):
        raise _error(Code.MESSAGE_MISMATCH, "The message names another URI.")
    # The statement is the dApp's to word (RainbowKit's, Reown's), unless required.
    if settings.WALLET_STATEMENT_REQUIRED and fields.statement != issued.statement:
        raise _error(Code.MESSAGE_MISMATCH, "The message must carry the server's statement.")


def _check_window(issued: IssuedChallenge, fields: MessageFields, now: datetime) -> None:
    if now > issued.expires_at + LEEWAY:
        raise _error(Code.EXPIRED, "The challenge has expired.")
    if fields.expires_at is not None and now > fields.expires_at + LEEWAY:
        raise _error(Code.EXPIRED, "The message has expired.")
    if fields.not_before is not None and fields.not_before > now + LEEWAY:
        raise _error(Code.NOT_YET_VALID, "The message is not valid yet.")
    if fields.issued_at is None:  # SIWS may leave it out: the challenge's window holds
        return
    if fields.issued_at > now + LEEWAY:
        raise _error(Code.NOT_YET_VALID, "The message is issued in the future.")
    if fields.issued_at < issued.issued_at - LEEWAY:
        raise _error(Code.MESSAGE_MISMATCH, "The message predates its challenge.")
