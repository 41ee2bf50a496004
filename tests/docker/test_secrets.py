"""The secrets the README puts in ./secrets/ reach neither git nor the image."""

from __future__ import annotations

import fnmatch
import subprocess

from . import ROOT

# What the README's production steps create (README, Docker, "Production").
SECRET_FILES = [
    "secrets/django_secret_key",
    "secrets/postgres_password",
    "secrets/tls_certificate",
    "secrets/tls_private_key",
]


def test_git_ignores_the_secrets_directory():
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *SECRET_FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == SECRET_FILES


def _docker_ignored(path: str) -> bool:
    """Docker's rules for these simple patterns: the last matching line wins,
    and a pattern matches a path or any of its parents."""
    ignored = False
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negated, pattern = pattern.startswith("!"), pattern.removeprefix("!")
        if any(
            fnmatch.fnmatchcase(c, pattern) or fnmatch.fnmatchcase(c, pattern.replace("**/", ""))
            for c in candidates
        ):
            ignored = not negated
    return ignored


def test_the_build_context_leaves_the_secrets_out():
    for path in (*SECRET_FILES, "docker/secrets/x", ".env"):
        assert _docker_ignored(path), path
    assert not _docker_ignored("config/settings/production.py")
    assert not _docker_ignored("requirements.lock")
