"""/metrics: hidden unless allowed, labelled by route (never the raw path),
auth outcomes from the auth_event signal, and gunicorn's multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client

from accounts.metrics import REGISTRY
from accounts.signals import Event, Outcome, emit
from tests.conftest import PASSWORD

TOKEN = "scrape-token-0123456789abcdef"
HIDDEN = {"status": 404, "errors": [{"code": "not_found", "message": "No such endpoint."}]}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_total(route: str, method: str, status: int) -> float:
    return sample("signet_http_requests_total", route=route, method=method, status=str(status))


def auth_total(kind: str, outcome: str, method: str = "", chain_family: str = "") -> float:
    labels = {"kind": kind, "outcome": outcome, "method": method, "chain_family": chain_family}
    return sample("signet_auth_events_total", **labels)


@pytest.fixture
def scraper(settings) -> Client:
    settings.METRICS_TOKEN = TOKEN
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


# --- Who may scrape -------------------------------------------------------------


def test_hidden_by_default(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == HIDDEN


def test_bearer_token_opens_it(scraper):
    response = scraper.get("/metrics")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    assert b"signet_http_requests_total" in response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "header", ["", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_wrong_or_missing_token_is_404(settings, header):
    settings.METRICS_TOKEN = TOKEN
    headers = {"Authorization": header} if header else {}
    response = Client(headers=headers).get("/metrics")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == HIDDEN


def test_an_empty_token_never_matches(settings):
    settings.METRICS_TOKEN = ""
    response = Client(headers={"Authorization": "Bearer "}).get("/metrics")
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_allowed_network(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == HTTPStatus.OK
    assert Client(REMOTE_ADDR="fd00::5").get("/metrics").status_code == HTTPStatus.OK
    outside = Client(REMOTE_ADDR="203.0.113.7").get("/metrics")
    assert outside.status_code == HTTPStatus.NOT_FOUND


def test_network_check_uses_the_trusted_client_ip(settings):
    """Behind one proxy, an X-Forwarded-For entry the client wrote is not believed."""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 1
    spoofed = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
    assert spoofed.get("/metrics").status_code == HTTPStatus.NOT_FOUND
    inside = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert inside.get("/metrics").status_code == HTTPStatus.OK


@pytest.mark.parametrize("proxies", [0, 1, 2])
def test_a_direct_client_cannot_claim_an_inside_address(settings, proxies):
    """Reaching a web container directly, X-Forwarded-For is the client's own words."""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = proxies
    for forwarded in ("10.9.9.9", "10.9.9.9, 10.0.0.2", "10.1.1.1, 10.9.9.9, 10.0.0.2"):
        outsider = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=forwarded)
        assert outsider.get("/metrics").status_code == HTTPStatus.NOT_FOUND, forwarded


def test_a_proxy_inside_does_not_open_it_to_the_client_behind(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.TRUSTED_PROXY_COUNT = 1
    passed_on = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert passed_on.get("/metrics").status_code == HTTPStatus.NOT_FOUND


def test_only_get(scraper):
    assert scraper.post("/metrics").status_code == HTTPStatus.NOT_FOUND


# --- HTTP metrics ---------------------------------------------------------------


def test_requests_are_counted_by_route_method_and_status(headless, user, client_kind):
    route = f"_allauth/{client_kind}/v1/auth/login"
    ok, bad = requests_total(route, "POST", 200), requests_total(route, "POST", 400)
    latency = sample(
        "signet_http_request_duration_seconds_count", route=route, method="POST", status="200"
    )
    headless.post("/auth/login", {"email": user.email, "password": "not the password"})
    headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert requests_total(route, "POST", 200) == ok + 1
    assert requests_total(route, "POST", 400) == bad + 1
    assert (
        sample(
            "signet_http_request_duration_seconds_count",
            route=route,
            method="POST",
            status="200",
        )
        == latency + 1
    )


def test_early_answers_are_labelled_by_their_route(db):
    """A stale token is refused by middleware, before URL resolution."""
    route = "_allauth/app/v1/auth/session"
    before = requests_total(route, "GET", 410)
    response = Client(headers={"X-Session-Token": "no-such-session"}).get(
        "/_allauth/app/v1/auth/session"
    )
    assert response.status_code == HTTPStatus.GONE
    assert requests_total(route, "GET", 410) == before + 1


def test_raw_paths_never_become_labels(scraper, db):
    before = requests_total("<unmatched>", "GET", 404)
    Client().get("/wp-login.php-probe-7f3a")
    Client().get("/_allauth/app/v1/probe-7f3a")
    Client().generic("BREW", "/health/live")
    assert requests_total("<unmatched>", "GET", 404) == before + 1
    assert requests_total("^_allauth/", "GET", 404) >= 1
    assert requests_total("health/live", "other", 405) >= 1
    assert b"probe-7f3a" not in scraper.get("/metrics").content


# --- Auth outcomes --------------------------------------------------------------


def test_login_outcomes(headless, user):
    ok, failed = (
        auth_total("login", "success", "password"),
        auth_total("login_failed", "failure", "password"),
    )
    headless.post("/auth/login", {"email": user.email, "password": "not the password"})
    headless.post("/auth/login", {"email": user.email, "password": PASSWORD})
    assert auth_total("login", "success", "password") == ok + 1
    assert auth_total("login_failed", "failure", "password") == failed + 1


def test_signup_is_counted(headless):
    before = auth_total("signup", "success", "password")
    headless.post("/auth/signup", {"email": "new@example.com", "password": PASSWORD})
    assert auth_total("signup", "success", "password") == before + 1


def test_rate_limit_hits_by_action(headless, user, settings):
    settings.ACCOUNT_RATE_LIMITS = "login=1/m/ip"
    before = sample("signet_rate_limit_hits_total", action="login")
    for _ in range(2):
        response = headless.post("/auth/login", {"email": user.email, "password": "wrong one!"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert sample("signet_rate_limit_hits_total", action="login") == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("chain", "family"),
    [
        ("eip155:1", "eip155"),
        ("eip155:8453", "eip155"),
        ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "solana"),
        ("cosmos:cosmoshub-4", "cosmos"),
        ("made-up:1", "other"),
        ("<script>:x", "other"),
    ],
)
def test_wallet_verifies_by_chain_family(chain, family):
    before = auth_total("wallet_verify", "failure", "wallet", family)
    emit(None, Event.WALLET_VERIFY, outcome=Outcome.FAILURE, method="wallet", chain=chain)
    assert auth_total("wallet_verify", "failure", "wallet", family) == before + 1


# --- gunicorn workers -------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import django, os
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    Client().get("/health/live")
    if os.environ.get("SCRAPE"):
        from django.conf import settings
        settings.METRICS_TOKEN = "t0ken-for-the-test"
        body = Client(headers={"Authorization": "Bearer t0ken-for-the-test"}).get("/metrics")
        print(body.content.decode())
    """
)


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path):
    """Two worker processes each answer one request; a third scrapes the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    for scrape in ("", "", "1"):
        result = subprocess.run(
            [sys.executable, "-c", WORKER],
            env={**env, "SCRAPE": scrape},
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    line = 'signet_http_requests_total{method="GET",route="health/live",status="200"} 3.0'
    assert line in result.stdout, result.stdout
    assert any(tmp_path.iterdir())
