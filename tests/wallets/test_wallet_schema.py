"""The wallet endpoints are in the OpenAPI schema, and answer what it documents."""

from __future__ import annotations

from http import HTTPStatus

from tests.test_schema import PREFIX, assert_documented
from tests.wallets.helpers import CHALLENGE, WALLETS, issue, sign_in, verify
from wallets.api import urls


def test_every_wallet_endpoint_is_documented(schema):
    for pattern in urls.urlpatterns:
        view = pattern.callback.view_class
        methods = {m for m in ("get", "post", "delete") if hasattr(view, m)}
        for client in ("app", "browser"):
            path = PREFIX.format(client=client) + str(pattern.pattern)
            assert set(schema["paths"][path]) == methods, path


def test_real_wallet_responses_match_the_schema(schema, headless, make_headless, any_wallet):
    kind = headless.kind
    response = headless.post(CHALLENGE, {"chain": "nope", "address": "x", "process": "login"})
    assert_documented(schema, response, kind, "auth/wallet/challenge", "post")
    response = headless.get(WALLETS)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert_documented(schema, response, kind, "account/wallets", "get")
    message = issue(headless, any_wallet)["message"]
    response = verify(headless, any_wallet, message + " ")
    assert_documented(schema, response, kind, "auth/wallet/verify", "post")
    response = sign_in(headless, any_wallet)
    assert response.status_code == HTTPStatus.OK
    assert_documented(schema, response, kind, "auth/wallet/verify", "post")
    response = headless.post(
        CHALLENGE, {"chain": any_wallet.chain, "address": any_wallet.address, "process": "connect"}
    )
    assert_documented(schema, response, kind, "auth/wallet/challenge", "post")
    response = headless.get(WALLETS)
    assert_documented(schema, response, kind, "account/wallets", "get")
    body = {"chain": any_wallet.chain, "address": any_wallet.address}
    response = headless.delete(WALLETS, body)
    assert response.status_code == HTTPStatus.CONFLICT
    assert_documented(schema, response, kind, "account/wallets", "delete")
