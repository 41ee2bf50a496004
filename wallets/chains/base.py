"""The chain-family interface and the Sign-In text format the families share.

Every family signs a CAIP-122 ("Sign in with X") message, the text EIP-4361
defined for Ethereum::

    {domain} wants you to sign in with your {Label} account:
    {address}

    {statement}

    URI: {uri}
    Version: 1
    Chain ID: {chain id}
    Nonce: {nonce}
    Issued At: {RFC 3339}
    Expiration Time: {RFC 3339}      (optional, and so is every line below)
    Not Before: {RFC 3339}
    Request ID: {pchar*}
    Resources:
    - {uri}

Lines end in LF only and appear in exactly this order. Families differ in the
label (and its spellings: WalletConnect writes "cosmos"), the address and
chain-id syntax, whether a scheme may prefix the domain (EIP-4361), how an
absent statement is laid out (SIWS drops a blank line; WalletConnect keeps it
for every family) and which fields are required (SIWS: none; the server still
needs the nonce).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from config.patterns import request_pattern

# Error codes (API.md); the strings equal accounts.api.errors.Code's, kept here
# so this layer needs no Django.
REQUIRED = "required"
INVALID = "invalid"
UNSUPPORTED_CHAIN = "unsupported_chain"
INVALID_ADDRESS = "invalid_address"
ADDRESS_MISMATCH = "address_mismatch"
INVALID_SIGNATURE = "invalid_signature"
INVALID_PUBLIC_KEY = "invalid_public_key"
SERVICE_UNAVAILABLE = "service_unavailable"


class ChainError(Exception):
    """A wallet input the chain layer refuses: `code` is stable, `message` human."""

    def __init__(self, code: str, message: str | None = None, *, param: str | None = None):
        self.code = code
        self.message = message or code.replace("_", " ").capitalize() + "."
        self.param = param
        super().__init__(self.message)


@dataclass(frozen=True)
class Challenge:
    """What the server issued; timestamps are aware datetimes."""

    chain: str
    address: str
    domain: str
    uri: str
    nonce: str
    issued_at: datetime
    expires_at: datetime
    statement: str | None = None


@dataclass(frozen=True)
class MessageFields:
    """What a signed message says, after strict parsing (times in UTC)."""

    domain: str
    address: str
    chain: str | None  # None, like uri, version and issued_at: absent (SIWS)
    uri: str | None
    version: str | None
    nonce: str
    issued_at: datetime | None
    expires_at: datetime | None = None
    not_before: datetime | None = None
    statement: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()
    scheme: str | None = None  # EIP-4361's optional "https://" before the domain


PublicKey = str | Mapping[str, Any] | None


class ChainFamily(ABC):
    """One CAIP-2 namespace: its message format, addresses and signatures."""

    namespace: str

    @abstractmethod
    def canonical_chain(self, reference: str) -> str:
        """CAIP-2 reference -> canonical CAIP-2 id, or ChainError(unsupported_chain)."""

    @abstractmethod
    def canonical_address(self, chain: str, address: str) -> str:
        """Canonical form of `address` on `chain`, or ChainError(invalid_address)."""

    @abstractmethod
    def build_message(self, challenge: Challenge) -> str: ...

    @abstractmethod
    def parse_message(self, text: str) -> MessageFields:
        """Strict parse, or ChainError(invalid, param="message")."""

    @abstractmethod
    def verify(
        self, *, chain: str, address: str, message: str, signature: str, public_key: PublicKey
    ) -> str | None:
        """Return when `signature` by `address` covers the UTF-8 bytes of `message`.

        None: a key signed, and a key owns its address on every chain of the
        family. A CAIP-2 id: the proof holds on that chain only (a contract
        wallet answers for itself on its chain, and the same address elsewhere
        may be someone else's contract), so the wallet is bound to it.
        """


# --- RFC 3339 ------------------------------------------------------------------

_RFC3339 = request_pattern(
    "signin.timestamp",
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))",
    attacks=("2026-01-01T00:00:00.0", "0"),
)


def format_timestamp(moment: datetime) -> str:
    """UTC, "Z" and milliseconds, as JavaScript's Date.toISOString() writes it
    (wallet libraries compare texts); microseconds when there are any (lossless)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond % 1000:
        return f"{text}.{moment.microsecond:06d}Z"
    return f"{text}.{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Any RFC 3339 date-time (offset required) -> aware UTC datetime; ValueError otherwise."""
    match = _RFC3339.fullmatch(text)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    micro = int((match[7] or "")[:6].ljust(6, "0"))  # finer than microseconds: truncated
    offset = timedelta(0)
    if match[8]:
        hours, minutes = int(match[9]), int(match[10])
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad UTC offset in {text!r}")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match[8] == "-" else 1)
    # datetime() rejects impossible dates and leap seconds (:60), which Python cannot hold.
    moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    return moment.astimezone(UTC)


# --- The Sign-In text ------------------------------------------------------------

_UNRESERVED_RESERVED = r"A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;="
_SIGNIN_ATTACKS = ("a", "a:", "%0", "%", "[", "a.b-", "a:%1")
_URI = request_pattern(
    "signin.uri",
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?:[{_UNRESERVED_RESERVED}]|%[0-9A-Fa-f]{{2}})*",
    attacks=_SIGNIN_ATTACKS,
)
_AUTHORITY = request_pattern(
    "signin.authority",
    r"(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]{1,5})?",
    attacks=(*_SIGNIN_ATTACKS, "[0:", "a:1"),
)
_STATEMENT = request_pattern(
    "signin.statement", rf"[{_UNRESERVED_RESERVED} ]+", attacks=_SIGNIN_ATTACKS
)
_NONCE = request_pattern("signin.nonce", r"[A-Za-z0-9]{8,}", attacks=("a",))
_REQUEST_ID = request_pattern(
    "signin.request_id",
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*",
    attacks=_SIGNIN_ATTACKS,
)
_SCHEME = request_pattern("signin.scheme", r"[A-Za-z][A-Za-z0-9+.\-]*", attacks=("a", "a+"))
MAX_MESSAGE_CHARS = 16 * 1024  # real messages are a few hundred; bound the parsing work
_FIELD_TAGS = (
    "URI", "Version", "Chain ID", "Nonce", "Issued At", "Expiration Time", "Not Before",
    "Request ID",
)  # fmt: skip
EIP4361_REQUIRED = ("URI", "Version", "Chain ID", "Nonce", "Issued At")
_FIELD_PREFIXES = (*(f"{tag}: " for tag in _FIELD_TAGS), "Resources:")


@dataclass(frozen=True)
class SignInFormat:
    label: str  # "Ethereum" in "... sign in with your Ethereum account:"
    allow_scheme: bool = False  # EIP-4361: "https://example.com wants you ..."
    # SIWS writes "address LF LF URI" without a statement; EIP-4361 keeps a third LF.
    # Such a format parses both layouts (WalletConnect writes the EIP-4361 one).
    compact_without_statement: bool = False
    other_labels: tuple[str, ...] = ()  # other spellings accepted when parsing
    required: tuple[str, ...] = EIP4361_REQUIRED  # "Nonce" at least: it names the challenge


def _malformed(reason: str) -> ChainError:
    return ChainError(INVALID, f"Not a well-formed sign-in message: {reason}.", param="message")


def build_signin_text(fmt: SignInFormat, challenge: Challenge, *, chain_id: str) -> str:
    """The message for `challenge`; ValueError when a configured value breaks the grammar."""
    statement = challenge.statement or None
    if not _AUTHORITY.fullmatch(challenge.domain) or not _URI.fullmatch(challenge.uri):
        raise ValueError("the domain must be host[:port] and the uri an RFC 3986 URI")
    if statement is not None and not _STATEMENT.fullmatch(statement):
        raise ValueError("the statement must be one line of RFC 3986 reserved/unreserved chars")
    if not _NONCE.fullmatch(challenge.nonce):
        raise ValueError("the nonce must be at least 8 alphanumeric characters")
    lines = [f"{challenge.domain} wants you to sign in with your {fmt.label} account:"]
    lines += [challenge.address, ""]
    if statement is not None:
        lines += [statement, ""]
    elif not fmt.compact_without_statement:
        lines.append("")
    lines += [
        f"URI: {challenge.uri}",
        "Version: 1",
        f"Chain ID: {chain_id}",
        f"Nonce: {challenge.nonce}",
        f"Issued At: {format_timestamp(challenge.issued_at)}",
        f"Expiration Time: {format_timestamp(challenge.expires_at)}",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class RawSignIn:
    """Parsed text before the family maps the address and chain id."""

    scheme: str | None
    domain: str
    address: str
    statement: str | None
    values: dict[str, str]
    resources: tuple[str, ...]


def parse_signin_text(text: str, fmt: SignInFormat) -> RawSignIn:
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        raise _malformed(f"expected text of at most {MAX_MESSAGE_CHARS} characters")
    if "\r" in text:
        raise _malformed("lines must end in LF, not CR LF")
    lines = text.split("\n")
    scheme, domain = _parse_header(lines[0], fmt)
    if len(lines) < 4 or not lines[1] or lines[2] != "":
        raise _malformed("the address line and a blank line must follow the first line")
    statement, index = _parse_statement(lines, fmt)
    values, index = _parse_fields(lines, index, fmt.required)
    resources: list[str] = []
    if index < len(lines) and lines[index] == "Resources:":
        index += 1
        while index < len(lines) and lines[index].startswith("- "):
            resources.append(lines[index][2:])
            index += 1
    if index != len(lines):
        raise _malformed(f"line {index + 1} is unexpected, out of order or repeated")
    _check_values(values, resources)
    return RawSignIn(scheme, domain, lines[1], statement, values, tuple(resources))


def _parse_header(line: str, fmt: SignInFormat) -> tuple[str | None, str]:
    suffixes = [
        f" wants you to sign in with your {label} account:"
        for label in (fmt.label, *fmt.other_labels)
    ]
    suffix = next((suffix for suffix in suffixes if line.endswith(suffix)), None)
    if suffix is None:
        raise _malformed(f"the first line must end with {suffixes[0].strip()!r}")
    origin, scheme = line[: -len(suffix)], None
    if fmt.allow_scheme and "://" in origin:
        scheme, origin = origin.split("://", 1)
        if not _SCHEME.fullmatch(scheme):
            raise _malformed("the scheme before the domain is not a URI scheme")
    if not _AUTHORITY.fullmatch(origin):
        raise _malformed("the domain must be host[:port]")
    return scheme, origin


def _parse_statement(lines: list[str], fmt: SignInFormat) -> tuple[str | None, int]:
    line = lines[3]
    if fmt.compact_without_statement and line.startswith(_FIELD_PREFIXES):
        return None, 3
    if line == "":
        return None, 4
    if not _STATEMENT.fullmatch(line):
        raise _malformed("the statement must be one line of allowed characters")
    if len(lines) == 4 and fmt.compact_without_statement:
        return line, 4  # SIWS: a statement and no fields at all (then no nonce: refused)
    if len(lines) < 5 or lines[4] != "":
        raise _malformed("a blank line must follow the statement")
    return line, 5


def _parse_fields(
    lines: list[str], index: int, required: tuple[str, ...]
) -> tuple[dict[str, str], int]:
    values: dict[str, str] = {}
    for tag in _FIELD_TAGS:
        prefix = f"{tag}: "
        if index < len(lines) and lines[index].startswith(prefix):
            values[tag] = lines[index][len(prefix) :]
            index += 1
        elif tag in required:
            raise _malformed(f"the {tag!r} line is missing or out of order")
    return values, index


def _check_values(values: dict[str, str], resources: list[str]) -> None:
    if "URI" in values and not _URI.fullmatch(values["URI"]):
        raise _malformed("URI is not an RFC 3986 URI")
    if values.get("Version", "1") != "1":
        raise _malformed("Version must be 1")
    if not _NONCE.fullmatch(values["Nonce"]):
        raise _malformed("Nonce must be at least 8 letters or digits")
    if "Request ID" in values and not _REQUEST_ID.fullmatch(values["Request ID"]):
        raise _malformed("Request ID has characters outside RFC 3986 pchar")
    if not all(_URI.fullmatch(resource) for resource in resources):
        raise _malformed("every resource must be an RFC 3986 URI")


def _timestamp(values: dict[str, str], tag: str) -> datetime | None:
    if tag not in values:
        return None
    try:
        return parse_timestamp(values[tag])
    except ValueError:
        raise _malformed(f"{tag} is not an RFC 3339 date-time") from None


class SignInTextFamily(ChainFamily):
    """A family whose messages follow the shared Sign-In text; subclasses map chain ids."""

    text_format: SignInFormat

    def message_chain_id(self, chain: str) -> str:
        """Canonical CAIP-2 id -> the text after "Chain ID: " (by default, the
        CAIP-2 reference, as EIP-4361 and the Cosmos text write it)."""
        return chain.partition(":")[2]

    def chain_from_message(self, value: str) -> str:
        """The text after "Chain ID: " -> canonical CAIP-2 id, or raise ChainError."""
        return self.canonical_chain(value)

    def build_message(self, challenge: Challenge) -> str:
        # The message must show the canonical address (EIP-55 for EVM), whatever was passed.
        address = self.canonical_address(challenge.chain, challenge.address)
        chain_id = self.message_chain_id(challenge.chain)
        challenge = replace(challenge, address=address)
        return build_signin_text(self.text_format, challenge, chain_id=chain_id)

    def parse_message(self, text: str) -> MessageFields:
        raw = parse_signin_text(text, self.text_format)
        chain_id = raw.values.get("Chain ID")
        try:
            chain = self.chain_from_message(chain_id) if chain_id is not None else None
            address = self.canonical_address(chain or f"{self.namespace}:", raw.address)
        except ChainError as error:
            reason = error.message.rstrip(".")
            raise _malformed(reason[:1].lower() + reason[1:]) from None
        if address != raw.address:
            raise _malformed(f"the address must be written in its canonical form {address}")
        return MessageFields(
            domain=raw.domain,
            address=address,
            chain=chain,
            uri=raw.values.get("URI"),
            version=raw.values.get("Version"),
            nonce=raw.values["Nonce"],
            issued_at=_timestamp(raw.values, "Issued At"),
            expires_at=_timestamp(raw.values, "Expiration Time"),
            not_before=_timestamp(raw.values, "Not Before"),
            statement=raw.statement,
            request_id=raw.values.get("Request ID"),
            resources=raw.resources,
            scheme=raw.scheme,
        )
