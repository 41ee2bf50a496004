"""Wallet sign-in endpoints (API.md, "Wallet sign-in"): thin views over wallets.flows.

Rate limits are counted in the flows, as everywhere (accounts.api.views).
"""

from __future__ import annotations

from accounts.api import responses
from accounts.api.base import AuthenticatedApi, HeadlessApi, reauthentication_required
from wallets.api import inputs
from wallets.api.responses import challenge_data, wallets_data
from wallets.challenges import BOUND_TO_USER
from wallets.flows.wallets import wallet_authenticate, wallet_challenge_request, wallet_unlink


class WalletChallengeApi(HeadlessApi):
    def post(self, request, **kwargs):
        data = self.input(inputs.ChallengeInput)
        if data["process"] in BOUND_TO_USER and not request.user.is_authenticated:
            return responses.auth_response(request)  # 401 with the flows
        issued, message = wallet_challenge_request(request._request, **data)
        return responses.respond(request, challenge_data(issued, message))


class WalletVerifyApi(HeadlessApi):
    def post(self, request, **kwargs):
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
