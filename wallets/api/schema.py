"""OpenAPI description of the wallet endpoints, in accounts.api.openapi's terms.

Imported by WalletsConfig.ready(): the view extensions register on import.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from accounts.api.openapi import (
    ApiOperation,
    WalletSerializer,
    authenticated,
    document,
    envelope,
)
from accounts.errors import Code
from wallets.api import inputs

VIEWS = "wallets.api.views."
AUTH_TAG, ACCOUNT_TAG = "Authentication: Wallet", "Account: Wallets"


class ChallengeDataSerializer(serializers.Serializer):
    nonce = serializers.CharField(help_text="Single use; at least 96 bits, alphanumeric.")
    message = serializers.CharField(
        help_text="The exact text to sign (EIP-4361, SIWS or CAIP-122 for Cosmos)."
    )
    issued_at = serializers.FloatField(help_text="Unix timestamp.")
    expires_at = serializers.FloatField(help_text="Unix timestamp; the nonce dies then.")


ChallengeResponse = envelope("WalletChallengeResponse", ChallengeDataSerializer)
WalletListResponse = envelope("WalletListResponse", WalletSerializer, many=True)
WALLET_LIST = {200: OpenApiResponse(WalletListResponse, "The user's wallets, oldest first.")}
ADDRESS_CODES = [Code.UNSUPPORTED_CHAIN, Code.INVALID_ADDRESS]
MESSAGE_CODES = [
    Code.CHALLENGE_NOT_FOUND,
    Code.MESSAGE_MISMATCH,
    Code.DOMAIN_MISMATCH,
    Code.ADDRESS_MISMATCH,
    Code.CHAIN_MISMATCH,
    Code.NOT_YET_VALID,
    Code.EXPIRED,
    Code.INVALID_SIGNATURE,
    Code.INVALID_PUBLIC_KEY,
]

document(
    VIEWS + "WalletChallengeApi",
    post=ApiOperation(
        "Issue a wallet sign-in challenge",
        {200: OpenApiResponse(ChallengeResponse, "The message to sign and its nonce.")},
        errors={
            400: [*ADDRESS_CODES, Code.DOMAIN_MISMATCH],
            404: [Code.NOT_FOUND],
            409: [Code.ALREADY_AUTHENTICATED],
        },
        request=inputs.ChallengeInput,
        description="`domain` must be one of the configured domains (default: the first); "
        "`uri` an http(s) URI on it (default: its origin). `login` only while signed out. "
        "`connect` and `reauthenticate` need a signed-in user (401 otherwise) and are bound "
        "to them; `connect` links a wallet, a sensitive change (401 ReauthenticationRequired "
        "when the authentication is too old); `reauthenticate` (the `wallet_reauthenticate` "
        "flow, Signet's) names one of the user's own wallets (404 otherwise).",
        tag=AUTH_TAG,
        rate_limited=True,
        reauthentication=True,
    ),
)
document(
    VIEWS + "WalletVerifyApi",
    post=ApiOperation(
        "Complete a challenge: sign in (`login`), link the wallet (`connect`) or "
        "reauthenticate (`reauthenticate`)",
        {
            200: authenticated(
                "Signed in, the wallet linked to the signed-in user, or reauthenticated "
                "(a `wallet` method with `reauthenticated: true` is added)."
            )
        },
        errors={
            400: [*ADDRESS_CODES, *MESSAGE_CODES],
            403: [Code.SIGNUP_CLOSED, Code.PERMISSION_DENIED],
            404: [Code.NOT_FOUND],
            409: [Code.ALREADY_AUTHENTICATED, Code.WALLET_ALREADY_LINKED],
        },
        request=inputs.VerifyInput,
        description="The nonce is spent on the first attempt, whatever its outcome. "
        "A wallet seen for the first time signs up a wallet-only user while signup is open. "
        "A `connect` or `reauthenticate` nonce completes only in its user's session.",
        tag=AUTH_TAG,
        rate_limited=True,
        reauthentication=True,
    ),
)
document(
    VIEWS + "ManageWalletsApi",
    get=ApiOperation("List the user's wallets", WALLET_LIST, tag=ACCOUNT_TAG),
    delete=ApiOperation(
        "Unlink a wallet",
        WALLET_LIST,
        errors={400: ADDRESS_CODES, 404: [Code.NOT_FOUND], 409: [Code.LAST_LOGIN_METHOD]},
        request=inputs.WalletInput,
        description="Refused while it is the user's last way to sign in (no other wallet, "
        "no usable password with a verified email). Needs a recent authentication.",
        tag=ACCOUNT_TAG,
        reauthentication=True,
    ),
)
