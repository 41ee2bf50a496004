"""The README's curl walkthrough runs as written against a live server.

The block between `<!-- walkthrough -->` markers is executed line by line with
bash and the real `curl`, the way a reader pastes it: plain assignments and
commands as they are, and the three placeholders the README explains filled
in as a reader would (`TOKEN=...` from the last answer's `meta.session_token`,
`KEY=...` from the newest mail, `ID=...` from the other session in the list).
Every command's `# -> NNN` is its expected status, in the body and on the wire.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail

from tests.accounts.helpers import key_from_mail

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"<!-- walkthrough -->\s*```sh\n(.*?)```\s*<!-- /walkthrough -->", re.S)
EXPECT = re.compile(r"#\s*->\s*(\d{3})")
ASSIGN = re.compile(r"^([A-Z_]+)=(.*)$")


def walkthrough_lines() -> list[str]:
    (block,) = BLOCK.findall(README.read_text())
    lines, pending = [], ""
    for raw in block.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line.strip())
    return lines


def bash(command: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, (command, result.stderr)
    return result.stdout


def other_session_id(body: dict) -> str:
    (other,) = [s for s in body["data"] if not s["is_current"]]
    return json.dumps(other["id"])


def placeholder(name: str, last: dict) -> str:
    if name == "TOKEN":
        return last["meta"]["session_token"]
    if name == "KEY":
        return key_from_mail()
    assert name == "ID", f"the README explains no placeholder {name}"
    return other_session_id(last)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_runs_as_written(live_server):
    env = {"PATH": "/usr/bin:/bin"}
    last: dict = {}
    lines = walkthrough_lines()
    assert len(lines) > 15
    for line in lines:
        line = line.replace("http://localhost:8000", live_server.url)
        assign = ASSIGN.match(line)
        if assign and assign[2] == "...":
            env[assign[1]] = placeholder(assign[1], last)
            continue
        if assign:
            env[assign[1]] = bash(f'{line}; printf %s "${assign[1]}"', env)
            continue
        expected = EXPECT.search(line)
        assert expected, f"a command without its '# -> status': {line}"
        out = bash(line.split("#")[0] + " -w '\\n%{http_code}'", env)
        body_text, _, http_code = out.rpartition("\n")
        last = json.loads(body_text)
        assert (int(http_code), last["status"]) == (int(expected[1]),) * 2, (line, last)
    assert mail.outbox, "the walkthrough reads keys from mails"
