from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, HeadlessClient


@pytest.fixture(autouse=True)
def jwt_strategy(settings):
    settings.SIGNET_TOKEN_STRATEGY = "jwt"


@pytest.fixture
def app(db) -> HeadlessClient:
    return HeadlessClient("app")


@pytest.fixture
def signed_in(app, user):
    """The app client's login answer under the jwt strategy."""
    response = app.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["meta"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
