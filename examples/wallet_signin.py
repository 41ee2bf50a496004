#!/usr/bin/env python
"""Sign in to Signet with a wallet, the way a client app does it.

    python examples/wallet_signin.py --chain eip155:1
    python examples/wallet_signin.py --chain solana:mainnet
    python examples/wallet_signin.py --chain cosmos:cosmoshub-4

It makes a throwaway key (or takes one with --key, hex), asks the server for a
challenge, signs the message exactly as the wallet would (EVM: personal_sign;
Solana: signMessage; Cosmos: Keplr's signArbitrary / ADR-036), sends it back
and prints the session token. Needs only the client libraries wallets use:
eth-account, pynacl, coincurve, base58, bech32 (all in Signet's dependencies).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
import urllib.error
import urllib.request


def call(server: str, path: str, body: dict, token: str | None = None) -> dict:
    if not server.startswith(("http://", "https://")):
        raise SystemExit("--server must be an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        f"{server}/_allauth/app/v1{path}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **({"X-Session-Token": token} if token else {}),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)


class EvmSigner:
    def __init__(self, key: bytes) -> None:
        from eth_account import Account

        self.account = Account.from_key(key)
        self.address = self.account.address

    def sign(self, message: str) -> dict:
        from eth_account.messages import encode_defunct

        signed = self.account.sign_message(encode_defunct(text=message))
        return {"signature": "0x" + signed.signature.hex().removeprefix("0x")}


class SolanaSigner:
    def __init__(self, key: bytes) -> None:
        import base58
        from nacl.signing import SigningKey

        self.key = SigningKey(key)
        self.address = base58.b58encode(bytes(self.key.verify_key)).decode()

    def sign(self, message: str) -> dict:
        import base58

        signature = self.key.sign(message.encode()).signature
        return {"signature": base58.b58encode(signature).decode()}


class CosmosSigner:
    def __init__(self, key: bytes, prefix: str = "cosmos") -> None:
        import bech32
        from coincurve import PrivateKey

        self.key = PrivateKey(key)
        public = self.key.public_key.format(compressed=True)
        account = hashlib.new("ripemd160", hashlib.sha256(public).digest()).digest()
        self.address = bech32.bech32_encode(prefix, bech32.convertbits(account, 8, 5))
        self.public_key = base64.b64encode(public).decode()

    def sign(self, message: str) -> dict:
        # ADR-036: an amino sign doc around the message, keys sorted, no spaces.
        doc = {
            "account_number": "0",
            "chain_id": "",
            "fee": {"amount": [], "gas": "0"},
            "memo": "",
            "msgs": [
                {
                    "type": "sign/MsgSignData",
                    "value": {
                        "data": base64.b64encode(message.encode()).decode(),
                        "signer": self.address,
                    },
                }
            ],
            "sequence": "0",
        }
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        # coincurve signs low-s, as Cosmos SDK requires; drop the recovery byte.
        signature = self.key.sign_recoverable(hashlib.sha256(raw).digest(), hasher=None)[:64]
        return {"signature": base64.b64encode(signature).decode(), "public_key": self.public_key}


SIGNERS = {"eip155": EvmSigner, "solana": SolanaSigner, "cosmos": CosmosSigner}


def sign_in(server: str, chain: str, key: bytes) -> dict:
    signer = SIGNERS[chain.split(":", 1)[0]](key)
    challenge = call(
        server,
        "/auth/wallet/challenge",
        {"chain": chain, "address": signer.address, "process": "login"},
    )
    if challenge["status"] != 200:
        return challenge
    message = challenge["data"]["message"]
    proof = signer.sign(message)
    return call(
        server,
        "/auth/wallet/verify",
        {"chain": chain, "address": signer.address, "message": message, **proof},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://localhost:8000")
    parser.add_argument("--chain", default="eip155:1")
    parser.add_argument("--key", help="private key as hex (default: a new random one)")
    args = parser.parse_args()
    key = bytes.fromhex(args.key) if args.key else secrets.token_bytes(32)
    result = sign_in(args.server.rstrip("/"), args.chain, key)
    print(json.dumps(result, indent=2))
    return 0 if result.get("status") == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
