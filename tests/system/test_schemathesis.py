"""Schemathesis against the live server's own /api/schema/, both clients.

The fuzzer runs as a CLI subprocess for a fixed time budget. Operations that
need a user get a live session of a verified user, the way each client holds
one (tests/system/_schemathesis_hooks.py); the others are fuzzed signed out,
the browser client still carrying its CSRF cookie and header.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest

from tests.system._client import PASSWORD, ApiClient, verification_key
from tests.system._servers import ROOT, SignetServer

FUZZ_EMAIL = "fuzzer@example.com"
# Whole-run budget: coverage first, then fuzzing repeats until it is spent.
MAX_TIME = 100
CHECKS = "all"
# - positive_data_acceptance: schema-valid is not acceptable here: a wrong
#   password, a weak one or an unknown chain are well-formed and must be 400;
# - ignored_auth: it wants 401/403 for a bad credential, but the contract (as
#   allauth) answers 410 to a session token that names no live session.
# Every other check runs, server errors and schema conformance among them.
EXCLUDED_CHECKS = "ignored_auth,positive_data_acceptance"
# negative_data_rejection's rejections plus 410 (an invalid token is rejected as
# gone) and 413 (a body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused unread).
REJECTED = [400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 428, 429]


@pytest.fixture(scope="module")
def fuzz_target(signet_server) -> SignetServer:
    """Mandatory verification (the default, with the most flows) and no rate
    limits, so the fuzzer reaches the code instead of 429s."""
    server = signet_server(ACCOUNT_EMAIL_VERIFICATION="mandatory")
    client = ApiClient(server)
    assert client.signup(FUZZ_EMAIL).status_code == HTTPStatus.UNAUTHORIZED
    key = verification_key(server.mail_dir, FUZZ_EMAIL)
    response = client.post("/auth/email/verify", {"key": key})
    assert response.status_code == HTTPStatus.OK, response.text
    return server


def _config(directory: Path) -> Path:
    path = directory / "schemathesis.toml"
    statuses = ", ".join(f'"{status}"' for status in REJECTED)
    path.write_text(f"[checks.negative_data_rejection]\nexpected-statuses = [{statuses}]\n")
    return path


def test_fuzzing_finds_no_server_error_and_no_schema_violation(fuzz_target, tmp_path):
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(_config(tmp_path)),
        "run", fuzz_target.url("/api/schema/"),
        "--checks", CHECKS, "--exclude-checks", EXCLUDED_CHECKS,
        "--max-time", str(MAX_TIME), "--workers", "2", "--request-timeout", "15",
        "--no-color", "--output-sanitize", "false", "--generation-database", "none",
    ]  # fmt: skip
    if seed := os.environ.get("SIGNET_FUZZ_SEED"):  # replay a failed run's "Seed:"
        command += ["--seed", seed]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.system._schemathesis_hooks",
        "SIGNET_FUZZ_ORIGIN": fuzz_target.origin,
        "SIGNET_FUZZ_EMAIL": FUZZ_EMAIL,
        "SIGNET_FUZZ_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=MAX_TIME + 120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, _readable(output)
    # Every operation of the schema was reached, under both client prefixes.
    selected = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", output)
    assert selected, output[-5000:]
    assert int(selected[3]) == int(selected[2]) > 0, selected[0]


def _readable(output: str) -> str:
    """The report with the fuzzer's huge generated bodies cut short, so the
    failures and their reproductions fit in a CI log."""
    lines = [line if len(line) <= 400 else line[:400] + " [...]" for line in output.splitlines()]
    return "\n".join(lines)[-30000:]


@pytest.mark.parametrize("kind", ["app", "browser"])
def test_a_malformed_multipart_body_is_refused_in_the_envelope(fuzz_target, kind):
    """Found by the fuzzer: the browser client's CSRF check parsed the body as
    a form and crashed on a multipart Content-Type without a boundary."""
    client = ApiClient(fuzz_target, kind)
    headers = {"Content-Type": "multipart/form-data"}
    if kind == "browser":
        headers["X-CSRFToken"] = client.csrf_token()
    response = client.http.post(
        fuzz_target.api(kind, "/auth/login"),
        data=b'{"email": "a@example.com", "password": "x"}',
        headers=headers,
        timeout=15,
    )
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert response.json() == {
        "status": 415,
        "errors": [
            {
                "code": "unsupported_media_type",
                "message": "Send the request body as application/json.",
            }
        ],
    }
