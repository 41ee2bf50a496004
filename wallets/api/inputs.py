"""Request bodies of the wallet endpoints, validated in one place.

Messages and signatures are taken verbatim (no whitespace trimming): the
signature covers the exact bytes of the message.
"""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.inputs import Input
from wallets.challenges import Process
from wallets.models import ADDRESS_MAX_LENGTH

CHAIN_MAX = 64
URI_MAX = 2048
MESSAGE_MAX = 4096
# EIP-1271/6492 signatures (multisig, counterfactual wrappers) run to kilobytes.
SIGNATURE_MAX = 40_000
PUBLIC_KEY_MAX = 512


def _verbatim(max_length: int, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, trim_whitespace=False, **kwargs)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "Base64 33-byte compressed secp256k1 key."},
            {"type": "object", "additionalProperties": {"type": "string"}},
        ],
        "nullable": True,
    }
)
class PublicKeyField(serializers.Field):
    """A base64 key, or a wallet's key object such as Keplr's {"type", "value"}."""

    default_error_messages = {
        "invalid": "Expected a base64 string or a key object with string values."
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) <= PUBLIC_KEY_MAX:
            return data
        if (
            isinstance(data, Mapping)
            and len(data) <= 4
            and all(isinstance(v, str) and len(v) <= PUBLIC_KEY_MAX for v in data.values())
        ):
            return dict(data)
        self.fail("invalid")

    def to_representation(self, value):
        return value


class ChallengeInput(Input):
    chain = _verbatim(CHAIN_MAX)
    address = _verbatim(ADDRESS_MAX_LENGTH)
    process = serializers.ChoiceField(
        choices=[Process.LOGIN, Process.CONNECT, Process.REAUTHENTICATE]
    )
    domain = _verbatim(255, required=False)
    uri = _verbatim(URI_MAX, required=False)


class VerifyInput(Input):
    chain = _verbatim(CHAIN_MAX)
    address = _verbatim(ADDRESS_MAX_LENGTH)
    message = _verbatim(MESSAGE_MAX)
    signature = _verbatim(SIGNATURE_MAX)
    public_key = PublicKeyField(required=False, allow_null=True)


class WalletInput(Input):
    chain = _verbatim(CHAIN_MAX)
    address = _verbatim(ADDRESS_MAX_LENGTH)
