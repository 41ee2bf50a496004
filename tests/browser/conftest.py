"""A headless Chromium (Debian's, driven by Playwright) pointed at pytest-django's
live server, and a small HTTP client for that server's API.

Missing Chromium or Playwright is a skip on a developer machine but a failure
when `CI` is set, so CI cannot go green by silently not running the test.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Flags that work on a root, GPU-less, offline container: no sandbox (root),
# no QUIC or background fetches (no internet), nothing that phones home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    reason += " (see tests/browser/README.md)"
    # CI runners set CI=true; a missing browser there must fail, not pass by skipping.
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    """CHROMIUM_PATH if set, else Debian's `chromium` on PATH."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    return path if path and os.access(path, os.X_OK) else None


@pytest.fixture
def page(live_server, monkeypatch) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    executable = chromium_path()
    if executable is None:
        _unavailable("no chromium executable (apt-get install chromium, or set CHROMIUM_PATH)")

    # Playwright's sync API keeps its asyncio loop marked "running" on this
    # thread while the test's own code runs (it switches greenlets and never
    # leaves the loop), so Django's async-safety check refuses every ORM call
    # the test makes (SynchronousOnlyOperation). Nothing else runs on that loop
    # while the test touches the database, so the check is a false positive:
    # allow it for this test only (monkeypatch undoes it afterwards). The live
    # server answers from its own threads, which have no loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Fail fast on a wrong selector rather than after Playwright's 30 s default.
        context.set_default_timeout(10_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
            # With a loop running, Django keeps this thread's connections in a
            # separate (context-var) store, so the test's queries used a second
            # connection. Close it while that store is still the one in use:
            # once the loop stops it is unreachable, stays open, and the test
            # database cannot be dropped at the end of the run.
            connections.close_all()


def screenshot(page: Any, step: str) -> Path:
    path = SCREENSHOTS / f"{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Response:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class LiveApiClient:
    """The app client over real HTTP to the live server: keeps the session token
    it is given, as a mobile app would. Quacks like tests.conftest.HeadlessClient
    (get/post, status_code/json/content), so tests.wallets.helpers drive it too."""

    kind = "app"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None

    def request(self, method: str, path: str, data: Any = None) -> Response:
        headers = {"Content-Type": "application/json", "User-Agent": "signet-browser-test"}
        if self.token:
            headers["X-Session-Token"] = self.token
        body = None if data is None else json.dumps(data).encode()
        url = f"{self.base_url}/_allauth/app/v1{path}"
        request = urllib.request.Request(url, body, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                response = Response(answer.status, answer.read())
        except urllib.error.HTTPError as error:  # 4xx/5xx still carry the envelope
            response = Response(error.code, error.read())
        token = _session_token(response)
        if token:
            self.token = token
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: Any = None) -> Response:
        return self.request("POST", path, data)


def _session_token(response: Response) -> str | None:
    try:
        return response.json().get("meta", {}).get("session_token")
    except (ValueError, AttributeError):
        return None


@pytest.fixture
def api(live_server) -> LiveApiClient:
    return LiveApiClient(live_server.url)


@pytest.fixture
def make_api(live_server):
    return lambda: LiveApiClient(live_server.url)
