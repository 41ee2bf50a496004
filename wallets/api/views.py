"""Wallet sign-in endpoints (API.md, "Wallet sign-in"): thin views over wallets.flows."""

from __future__ import annotations

from accounts.api import responses
from accounts.api.base import AuthenticatedApi, HeadlessApi, reauthentication_required
from accounts.api.errors import ApiError, Code
from accounts.flows.reauthentication import require_reauthentication
from accounts.ratelimit import Action, consume
from wallets.api import inputs
from wallets.api.responses import challenge_data, wallets_data
from wallets.challenges import Process
from wallets.flows.challenge import wallet_challenge_issue
from wallets.flows.wallets import wallet_authenticate, wallet_unlink


class WalletChallengeApi(HeadlessApi):
    def post(self, request, **kwargs):
        consume(request, Action.WALLET_CHALLENGE)
        data = self.input(inputs.ChallengeInput)
        user = request.user
        if data["process"] == Process.LOGIN and user.is_authenticated:
            raise ApiError(409, Code.ALREADY_AUTHENTICATED, "You are already signed in.")
        if data["process"] in Process.BOUND_TO_USER and not user.is_authenticated:
            return responses.auth_response(request)  # 401 with the flows
        if data["process"] == Process.CONNECT:
            require_reauthentication(request)  # linking a wallet is a sensitive change
        issued, message = wallet_challenge_issue(**data, user_id=user.pk)
        return responses.respond(request, challenge_data(issued, message))


class WalletVerifyApi(HeadlessApi):
    def post(self, request, **kwargs):
        consume(request, Action.WALLET_VERIFY)
        data = self.input(inputs.VerifyInput)
        wallet_authenticate(request._request, **data)
        return responses.auth_response(request)


class ManageWalletsApi(AuthenticatedApi):
    def get(self, request, **kwargs):
        return responses.respond(request, wallets_data(request.user))

    @reauthentication_required
    def delete(self, request, **kwargs):
        data = self.input(inputs.WalletInput)
        wallet_unlink(
            request._request, user=request.user, chain=data["chain"], address=data["address"]
        )
        return responses.respond(request, wallets_data(request.user))
