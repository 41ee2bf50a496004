"""Proof that the Docker artifacts work, on a machine with no Docker engine.

The compose files are resolved by the real Compose binary (`docker-compose
config`); the entrypoint, gunicorn and the health probe run on the host with
the environment compose.prod.yaml gives `web`, its service names pointed at
the PostgreSQL and Redis the test suite uses (TEST_DATABASE_URL,
TEST_REDIS_URL), its secret files replaced by temporary ones.

A binary that is missing (docker-compose, hadolint, shellcheck, nginx) skips
its tests on a developer's machine and fails them in CI (CI=true).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

DOCKERFILE = (ROOT / "docker" / "Dockerfile").read_text()


def dockerfile_stage(name: str) -> str:
    """The instructions of one build stage of docker/Dockerfile."""
    match = re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.M | re.S)
    assert match, f"no stage {name!r}"
    return match.group(1)


def instructions(stage: str) -> list[str]:
    """The stage's instructions, continuation lines joined."""
    return [i.strip() for i in re.split(r"(?<!\\)\n", stage.replace("\\\n", " ")) if i.strip()]


def image_env(name: str) -> str:
    """A variable the base stage's ENV sets (every image target has it)."""
    env = " ".join(i for i in instructions(dockerfile_stage("base")) if i.startswith("ENV "))
    match = re.search(rf"\b{name}=(\S+)", env)
    assert match, f"the base stage sets no {name}"
    return match.group(1)


# What a production .env must provide at least (compose.prod.yaml requires them).
PROD_ENV = {
    "SIGNET_IMAGE": "registry.example.com/signet:test",
    "DJANGO_ALLOWED_HOSTS": "signet.example.com",
    "FRONTEND_URL": "https://app.example.com",
    "WEBAUTHN_RP_ID": "app.example.com",
    "WEBAUTHN_ORIGINS": "https://app.example.com",
    "WALLET_DOMAINS": "app.example.com",
}


def tool(name: str) -> str:
    """Path of a binary from the venv or PATH; skip (fail in CI) without it."""
    found = shutil.which(name, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        message = (
            f"{name} is not installed (see pyproject.toml [dev] and the README's Docker section)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def base_env() -> dict[str, str]:
    """A clean process environment: nothing of the test run's own settings."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }


def compose(
    file: str, *args: str, env: dict[str, str] | None = None, profiles=(), env_file=os.devnull
):
    """Run `docker-compose -f FILE ... ARGS` hermetically: no .env, only `env`."""
    cmd = [tool("docker-compose"), "--project-directory", str(ROOT), "-f", str(ROOT / file)]
    cmd += ["--env-file", str(env_file)]
    for profile in profiles:
        cmd += ["--profile", profile]
    return subprocess.run(
        [*cmd, *args], env={**base_env(), **(env or {})}, capture_output=True, text=True, timeout=60
    )


def compose_config(file: str, env: dict[str, str] | None = None, profiles=()) -> dict:
    result = compose(file, "config", "--format", "json", env=env, profiles=profiles)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def settings_variables() -> set[str]:
    """Every variable the settings read (`env("X")`, `env.bool("X")`, ...)."""
    names: set[str] = set()
    for path in (ROOT / "config").rglob("*.py"):
        names |= set(re.findall(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', path.read_text()))
    return names


def service_addresses() -> tuple[dict[str, str], str]:
    """(PostgreSQL admin connection kwargs, Redis URL) of the test suite's services."""
    from environ import Env

    db = Env.db_url_config(
        os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    )
    pg = {
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or "",
    }
    return pg, os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def web_environment(tmp_path: Path, *, database: str, **overrides: str) -> dict[str, str]:
    """The environment compose.prod.yaml gives `web`, made to run on this host.

    Service names become the test services' addresses, secrets become files
    under tmp_path, and Redis keys get a prefix of their own.
    """
    pg, redis_url = service_addresses()
    config = compose_config(
        "compose.prod.yaml",
        env={**PROD_ENV, "POSTGRES_USER": pg["user"], "POSTGRES_DB": database},
    )
    env = {k: v for k, v in config["services"]["web"]["environment"].items() if v is not None}
    secret_values = {
        "django_secret_key": secrets.token_urlsafe(50),
        "mfa_encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "postgres_password": pg["password"] or "unused-with-trust-auth",
    }
    for key, value in list(env.items()):
        if key.endswith("_FILE") and value.startswith("/run/secrets/"):
            name = value.removeprefix("/run/secrets/")
            path = tmp_path / "secrets" / name
            path.parent.mkdir(exist_ok=True)
            path.write_text(secret_values[name] + "\n")  # as `echo ... > file` writes it
            env[key] = str(path)
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("@db:5432/", f"@{pg['host']}:{pg['port']}/")
    redis = urlsplit(redis_url)
    env["REDIS_URL"] = env["REDIS_URL"].replace("//redis:6379/0", f"//{redis.netloc}{redis.path}")
    env["REDIS_KEY_PREFIX"] = f"signet-docker-test-{secrets.token_hex(4)}"
    # Production refuses to start without mail; compose passes the .env's on.
    env.setdefault("EMAIL_URL", "smtp://127.0.0.1:1025")
    # What the image itself sets (docker/Dockerfile, ENV).
    env |= {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return {**base_env(), **env, **overrides}
