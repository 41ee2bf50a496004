"""One small request must not pin a worker: the attacks of the red-team report,
sent to gunicorn as written there, with production's logging (JSON lines at
INFO, every line through the redaction filter).

Before the fix, `GET /` + "key" * 500 took 11.8 s (the redaction regex on the
access line), a 720-character `Host: keykey...` 3.2 s (the same regex on
Django's DisallowedHost message), and a 64 KB body of escaped quotes 10.5 s
(the JSON depth pre-scan). Each is timed against a harmless request of the
same size on the same server: the cost must stay within a small factor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http import HTTPStatus

import pytest
import requests

from tests.system._servers import SignetServer

FACTOR = 20
BODY = 64 * 1024 - 2


@pytest.fixture(scope="module")
def server(signet_server) -> SignetServer:
    return signet_server(workers=2, LOG_LEVEL="INFO", LOG_FORMAT="json")


def timed(send: Callable[[], requests.Response]) -> tuple[float, requests.Response]:
    best, response = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        response = send()
        best = min(best, time.perf_counter() - start)
    return best, response


def assert_cheap(attack: Callable[[], requests.Response], benign: Callable[[], requests.Response]):
    reference, _ = timed(benign)
    took, response = timed(attack)
    assert took <= FACTOR * reference, f"{took * 1000:.0f} ms vs {reference * 1000:.0f} ms"
    return response


def _envelope(response: requests.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == status


def test_a_long_path_of_secret_words(server):
    def get(path: str) -> Callable[[], requests.Response]:
        return lambda: requests.get(server.url(path), timeout=60)

    response = assert_cheap(get("/" + "key" * 500), get("/" + "abc" * 500))
    _envelope(response, HTTPStatus.NOT_FOUND)


def test_a_long_host_of_secret_words(server):
    def get(host: str) -> Callable[[], requests.Response]:
        return lambda: requests.get(server.url("/health/live"), headers={"Host": host}, timeout=60)

    response = assert_cheap(get("key" * 240), get("abc" * 240))
    _envelope(response, HTTPStatus.BAD_REQUEST)


def test_a_body_of_escaped_quotes(server):
    def post(body: str) -> Callable[[], requests.Response]:
        url = server.api("app", "/auth/login")
        headers = {"Content-Type": "application/json"}
        return lambda: requests.post(url, data=body, headers=headers, timeout=60)

    response = assert_cheap(post('"' + '\\"' * (BODY // 2)), post('"' + "ab" * (BODY // 2)))
    _envelope(response, HTTPStatus.BAD_REQUEST)


def test_a_bad_host_is_one_warning_line_without_a_traceback(server):
    marker = "bad-host-" + "x" * 700
    response = requests.get(server.url("/health/live"), headers={"Host": marker}, timeout=60)
    _envelope(response, HTTPStatus.BAD_REQUEST)
    time.sleep(0.2)  # the worker's stdout reaches the log file
    text = server.log.read_text().splitlines()
    lines = [json.loads(line) for line in text if line.startswith("{") and "bad-host-" in line]
    security = [line for line in lines if line["logger"] == "django.security.DisallowedHost"]
    assert len(security) == 1, lines
    (entry,) = security
    assert entry["level"] == "WARNING" and "exc" not in entry
    assert entry["message"].startswith("Invalid HTTP_HOST header: 'bad-host-xxx")
    assert len(entry["message"]) < 400
