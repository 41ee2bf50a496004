"""Real wallet libraries sign in to a live Signet (tests/clients/*.mjs, Node 20).

Each script signs in the way a dApp does with one library (viem, ethers, siwe,
@solana/wallet-standard-util + tweetnacl, @keplr-wallet/cosmos with @cosmjs,
@injectivelabs/sdk-ts, @walletconnect/utils' formatMessage) and tries its
negative twins (other domain, replayed nonce, other key); it prints what each
step answered as JSON, and this module asserts every step. The packages come
from the committed lock file: `npm ci --prefix tests/clients`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CASES = ["viem", "ethers", "siwe", "solana", "keplr", "injective", "walletconnect"]
# Per script: Node starts, imports its libraries (sdk-ts takes seconds) and
# makes a dozen requests; a minute means something hangs.
TIMEOUT = 120


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    assert path, "Node 20 is needed for tests/clients (the JavaScript wallet libraries)."
    assert (HERE / "node_modules").is_dir(), (
        "tests/clients/node_modules is missing: run `npm ci --prefix tests/clients`."
    )
    return path


@pytest.fixture
def wallet_settings(settings):
    # Injective too; the live server runs in this process and reads these settings.
    settings.WALLET_CHAINS = [*settings.WALLET_CHAINS, "cosmos:injective-1"]
    settings.ACCOUNT_SIGNUP_OPEN = True


@pytest.mark.parametrize("case", CASES)
def test_library_signs_in_and_its_twins_are_refused(node, live_server, wallet_settings, case):
    process = subprocess.run(
        [node, HERE / f"{case}.mjs", live_server.url],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    lines = process.stdout.strip().splitlines()
    assert lines, f"no report from {case}.mjs; stderr:\n{process.stderr}"
    results = json.loads(lines[-1])["results"]
    failed = [r for r in results if not r["ok"]]
    assert not failed, "\n".join(
        f"{r['name']}: expected {r['expected']}, got {r['got']}" for r in failed
    )
    assert len(results) >= 4, results  # a positive case and its twins at least
