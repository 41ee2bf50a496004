"""Driving the wallet endpoints as a client would, and building messages the
way wallet libraries do (viem's createSiweMessage, Phantom's signIn)."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

CHALLENGE = "/auth/wallet/challenge"
VERIFY = "/auth/wallet/verify"
WALLETS = "/account/wallets"
SIWE_LABELS = {"eip155": "Ethereum", "solana": "Solana", "cosmos": "Cosmos"}
SOLANA_CLUSTERS = {"solana:mainnet": "mainnet", "solana:devnet": "devnet"}


def challenge(client, wallet, process: str = "login", **extra):
    body = {"chain": wallet.chain, "address": wallet.address, "process": process, **extra}
    return client.post(CHALLENGE, body)


def issue(client, wallet, process: str = "login", **extra) -> dict:
    response = challenge(client, wallet, process, **extra)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["data"]


def verify_body(wallet, message: str, signature: str | None = None, **extra) -> dict:
    body = {
        "chain": wallet.chain,
        "address": wallet.address,
        "message": message,
        "signature": wallet.sign(message) if signature is None else signature,
    }
    if wallet.public_key is not None:
        body["public_key"] = wallet.public_key
    return {**body, **extra}


def verify(client, wallet, message: str, **extra):
    return client.post(VERIFY, verify_body(wallet, message, **extra))


def sign_in(client, wallet, process: str = "login"):
    """The whole round: challenge, sign the server's message, verify."""
    return verify(client, wallet, issue(client, wallet, process)["message"])


def iso_ms(moment: datetime) -> str:
    """JavaScript's Date.toISOString(): milliseconds and Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def client_message(
    wallet,
    nonce: str,
    *,
    domain: str = "app.example.com",
    address: str | None = None,
    uri: str = "https://app.example.com",
    chain_id: str | None = None,
    statement: str | None = None,
    issued_at: datetime | None = None,
    expires_at: datetime | None = None,
    not_before: datetime | None = None,
    extra_lines: tuple[str, ...] = (),
) -> str:
    """A sign-in message built on the client from the nonce alone.

    EIP-4361 (viem) keeps an empty line where the statement would be; SIWS
    (Phantom) drops it. Times are JavaScript ISO strings.
    """
    namespace = wallet.chain.split(":")[0]
    if chain_id is None:
        chain_id = SOLANA_CLUSTERS.get(wallet.chain) or wallet.chain.split(":", 1)[1]
    head = f"{domain} wants you to sign in with your {SIWE_LABELS[namespace]} account:"
    lines = [head, address or wallet.address, ""]
    if statement is not None:
        lines += [statement, ""]
    elif namespace != "solana":
        lines.append("")
    lines += [
        f"URI: {uri}",
        "Version: 1",
        f"Chain ID: {chain_id}",
        f"Nonce: {nonce}",
        f"Issued At: {iso_ms(issued_at or datetime.now(UTC))}",
    ]
    if expires_at is not None:
        lines.append(f"Expiration Time: {iso_ms(expires_at)}")
    if not_before is not None:
        lines.append(f"Not Before: {iso_ms(not_before)}")
    return "\n".join([*lines, *extra_lines])


def error(status: int, code: str, param: str | None = None) -> dict:
    """The error body the contract fixes (message text aside)."""
    return {"status": status, "errors": [{"code": code, **({"param": param} if param else {})}]}


def without_messages(body: dict) -> dict:
    errors = [{k: v for k, v in e.items() if k != "message"} for e in body.get("errors", [])]
    return {**body, "errors": errors}
