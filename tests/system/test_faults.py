"""Faults in the backing services, on private instances the tests may stop.

Redis down: readiness says which dependency failed, Redis-only features say
503 `service_unavailable`, and password login plus existing sessions keep
working from the database. PostgreSQL down: 503 in the envelope, never a
crash page. Either one back: Signet recovers by itself (same gunicorn master,
same workers) and nothing committed before the fault is gone.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from http import HTTPStatus

import pytest
import requests

from tests.system._client import ApiClient
from tests.system._servers import RedisServer, SignetServer, wait_until
from tests.wallets.conftest import EvmWallet

RECOVERY_BOUND = 30  # seconds for a service to be back and seen as back


@pytest.fixture
def redis(system_dir) -> Iterator[RedisServer]:
    """A Redis of this test's own: stopping it disturbs no other server."""
    server = RedisServer(system_dir)
    yield server
    server.stop()


def _health(server: SignetServer) -> requests.Response:
    return requests.get(server.url("/health"), timeout=15)


def _healthy(server: SignetServer) -> bool:
    try:
        return _health(server).status_code == HTTPStatus.OK
    except requests.RequestException:
        return False


def _unavailable(response: requests.Response) -> bool:
    """503 in the envelope with the contract's code."""
    return (
        response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        and response.headers.get("Content-Type") == "application/json"
        and [e["code"] for e in response.json()["errors"]] == ["service_unavailable"]
    )


def _challenge(client: ApiClient, wallet: EvmWallet) -> requests.Response:
    return client.post(
        "/auth/wallet/challenge",
        {"chain": wallet.chain, "address": wallet.address, "process": "login"},
    )


def _me(client: ApiClient) -> int | None:
    response = client.get("/auth/session")
    return response.json()["data"]["user"]["id"] if response.status_code == 200 else None


def test_redis_outage_degrades_to_the_database_and_recovers(signet_server, redis):
    server = signet_server(redis=redis, ACCOUNT_RATE_LIMITS="")  # allauth's default limits
    pids = server.worker_pids()
    alice, bob = ApiClient(server), ApiClient(server, "browser")
    assert alice.signup("alice@example.com").status_code == 200
    assert bob.signup("bob@example.com").status_code == 200
    wallet, holder = EvmWallet(), ApiClient(server)
    assert holder.wallet_sign_in(wallet).status_code == 200
    before = {name: _me(c) for name, c in {"alice": alice, "bob": bob, "wallet": holder}.items()}

    redis.stop()

    health = _health(server)
    assert health.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert health.json() == {
        "status": 503,
        "errors": [
            {"code": "service_unavailable", "message": "cache is unavailable.", "param": "cache"}
        ],
        "data": {"checks": {"database": "ok", "cache": "unavailable"}},
    }
    for kind in ("app", "browser"):
        assert _unavailable(_challenge(ApiClient(server, kind), wallet))
    # Email login works (limits fail open), as does a signup; old sessions hold.
    assert ApiClient(server).login("alice@example.com").status_code == 200
    assert ApiClient(server, "browser").login("bob@example.com").status_code == 200
    carol = ApiClient(server)
    assert carol.signup("carol@example.com").status_code == 200
    assert {name: _me(c) for name, c in {"alice": alice, "bob": bob, "wallet": holder}.items()} == (
        before
    )

    redis.start()

    assert wait_until(lambda: _healthy(server), RECOVERY_BOUND), _health(server).text
    assert ApiClient(server).wallet_sign_in(wallet).json()["data"]["user"]["id"] == before["wallet"]
    for kind in ("app", "browser"):
        assert _challenge(ApiClient(server, kind), EvmWallet()).status_code == 200
    assert {name: _me(c) for name, c in {"alice": alice, "bob": bob, "wallet": holder}.items()} == (
        before
    )
    assert _me(carol) is not None
    assert server.worker_pids() == pids  # recovered in place, no worker restarted


def test_a_session_ended_while_redis_is_unreachable_stays_ended(signet_server, redis):
    """Redis frozen (a partition, or a restart that reloads its snapshot), a
    user signs out; when Redis answers again it still holds the copy of the
    session it cached before. Sign-out may fail (503, try again), but once it
    has said the session ended, that stale copy must not sign anyone in."""
    server = signet_server(redis=redis)
    alice = ApiClient(server)
    assert alice.signup("alice@example.com").status_code == 200
    token = alice.token
    assert alice.get("/auth/session").status_code == 200  # cached in Redis now

    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        logout = alice.delete("/auth/session")
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)
    if logout.status_code != HTTPStatus.UNAUTHORIZED:
        assert _unavailable(logout), logout.text
        assert alice.delete("/auth/session").status_code == HTTPStatus.UNAUTHORIZED

    stale = requests.get(
        server.api("app", "/auth/session"), headers={"X-Session-Token": token}, timeout=15
    )
    assert stale.status_code == HTTPStatus.GONE, stale.text


def _restartable(postgres) -> None:
    if not postgres.can_restart:
        pytest.skip("initdb could not run here: no private PostgreSQL to restart")


def test_postgres_restart_is_survived_without_restarting_gunicorn(signet_server, postgres):
    _restartable(postgres)
    server = signet_server()
    master, pids = server.process.pid, server.worker_pids()
    alice, bob, wallet = ApiClient(server), ApiClient(server, "browser"), EvmWallet()
    assert alice.signup("alice@example.com").status_code == 200
    assert alice.post("/account/email", {"email": "alice@work.example"}).status_code == 200
    assert alice.wallet_sign_in(wallet, process="connect").status_code == 200
    assert bob.signup("bob@example.com").status_code == 200
    emails, wallets = alice.get("/account/email").json(), alice.get("/account/wallets").json()

    postgres.stop("immediate")  # a crash: recovery replays the WAL
    try:
        health = _health(server)
        assert health.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert health.json()["data"]["checks"] == {"database": "unavailable", "cache": "ok"}
        assert [e["param"] for e in health.json()["errors"]] == ["database"]
        assert _unavailable(ApiClient(server).login("alice@example.com"))
        assert _unavailable(ApiClient(server, "browser").login("bob@example.com"))
        # A signed-in read needs no SQL (accounts.usercache): served from Redis
        # while the entry read just before is live, and 503 only past it.
        session = alice.get("/auth/session")
        assert session.status_code == 200 or _unavailable(session)
        assert session.status_code != 200 or session.json()["data"]["user"]["email"] == (
            "alice@example.com"
        )
    finally:
        postgres.start()

    assert wait_until(lambda: _healthy(server), RECOVERY_BOUND), _health(server).text
    # Every worker reconnects on its own: no request fails once it is back.
    for _ in range(3 * server.workers):
        assert ApiClient(server).login("alice@example.com").status_code == 200
    assert alice.get("/account/email").json() == emails
    assert alice.get("/account/wallets").json() == wallets
    assert _me(bob) is not None
    assert server.process.pid == master and server.worker_pids() == pids


def test_a_session_lookup_without_postgres_answers_503_in_the_envelope(signet_server, postgres):
    """A token or cookie Redis has not cached is looked up in the database
    before any view runs; with PostgreSQL down that must still be the
    contract's 503, not Django's HTML error page."""
    _restartable(postgres)
    server = signet_server()
    app, browser = ApiClient(server), ApiClient(server, "browser")
    app.token = "x" * 32
    browser.http.cookies.set("sessionid", "y" * 32)

    postgres.stop("immediate")
    try:
        responses = {
            kind: c.get("/auth/session") for kind, c in (("app", app), ("browser", browser))
        }
    finally:
        postgres.start()

    for kind, response in responses.items():
        assert _unavailable(response), (kind, response.status_code, response.text[:200])
