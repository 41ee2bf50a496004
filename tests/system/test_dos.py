"""One small request must not pin a worker: the attacks of the red-team report,
sent to gunicorn as written there, with production's logging (JSON lines at
INFO, every line through the redaction filter).

Before the fix, `GET /` + "key" * 500 took 11.8 s (the redaction regex on the
access line), a 720-character `Host: keykey...` 3.2 s (the same regex on
Django's DisallowedHost message), and a 64 KB body of escaped quotes 10.5 s
(the JSON depth pre-scan). Each is measured in the worker's CPU time against
a harmless request of the same size: the cost must stay within a small factor.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

import pytest
import requests

from tests.system._servers import SignetServer

FACTOR = 20
REPEAT = 5
BODY = 64 * 1024 - 2


@pytest.fixture(scope="module")
def server(signet_server) -> SignetServer:
    # One worker: every request below runs in the process whose CPU time is read.
    return signet_server(workers=1, LOG_LEVEL="INFO", LOG_FORMAT="json")


def worker_cpu(server: SignetServer) -> float:
    """CPU seconds the workers have used (the scheduler's ns count): a busy
    shared machine stretches wall time, not this."""
    total = 0
    for pid in server.worker_pids():
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def server_cost(server: SignetServer, send: Callable[[], requests.Response]):
    send()  # warm: the first request of a kind may import or compile something
    before = worker_cpu(server)
    for _ in range(REPEAT):
        response = send()
    return worker_cpu(server) - before, response


def assert_cheap(server, attack, benign) -> requests.Response:
    reference, _ = server_cost(server, benign)
    took, response = server_cost(server, attack)
    assert took <= FACTOR * reference, f"{took * 1000:.0f} ms vs {reference * 1000:.0f} ms of CPU"
    return response


def _envelope(response: requests.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == status


def test_a_long_path_of_secret_words(server):
    def get(path: str) -> Callable[[], requests.Response]:
        return lambda: requests.get(server.url(path), timeout=60)

    response = assert_cheap(server, get("/" + "key" * 500), get("/" + "abc" * 500))
    _envelope(response, HTTPStatus.NOT_FOUND)


def test_a_long_host_of_secret_words(server):
    def get(host: str) -> Callable[[], requests.Response]:
        return lambda: requests.get(server.url("/health/live"), headers={"Host": host}, timeout=60)

    response = assert_cheap(server, get("key" * 240), get("abc" * 240))
    _envelope(response, HTTPStatus.BAD_REQUEST)


def test_a_body_of_escaped_quotes(server):
    def post(body: str) -> Callable[[], requests.Response]:
        url = server.api("app", "/auth/login")
        headers = {"Content-Type": "application/json"}
        return lambda: requests.post(url, data=body, headers=headers, timeout=60)

    response = assert_cheap(server, post('"' + '\\"' * (BODY // 2)), post('"' + "ab" * (BODY // 2)))
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
