"""A rendered pod template run on the host, the way kubelet runs it.

Each container is the image's ENTRYPOINT (docker/Dockerfile, runtime stage)
with the container's `args`, in the image's WORKDIR, with the image's ENV,
then the ConfigMap of `envFrom`, then `env` in order ($(VAR) references
expanded, the pod IP 127.0.0.1). Volumes become directories: the Secret's
files are written as `kubectl create secret` would mount them, an emptyDir
is a directory of the pod's own. Probes are GETs on the container port
(a free port here), with kubelet's Host header (<pod IP>:<port>).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from . import ROOT, base_env, dockerfile_stage, instructions, service_addresses
from .test_entrypoint import _free_port

POD_IP = "127.0.0.1"
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "m": 1e-3, "": 1}


def quantity(value: str | int) -> float:
    """A Kubernetes quantity ("384Mi", "500m", "2") as a number."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * _UNITS[unit]


def _image() -> tuple[dict[str, str], list[str], str]:
    """(ENV, ENTRYPOINT, WORKDIR) of the runtime image."""
    env: dict[str, str] = {}
    entrypoint, workdir = [], "/"
    for stage in ("base", "runtime"):
        for line in instructions(dockerfile_stage(stage)):
            word, _, rest = line.partition(" ")
            if word == "ENV":
                env |= dict(item.split("=", 1) for item in shlex.split(rest))
            elif word == "ENTRYPOINT":
                entrypoint = json.loads(rest)
            elif word == "WORKDIR":
                workdir = rest
    # The venv's PATH and location are the host's own here.
    return {k: v for k, v in env.items() if k not in ("PATH", "VIRTUAL_ENV")}, entrypoint, workdir


def expand(value: str, env: dict[str, str]) -> str:
    """kubelet's $(VAR) expansion: defined names replaced, $$ escapes, the rest left."""

    def one(match: re.Match) -> str:
        if match[0] == "$$":
            return "$"
        return env.get(match[1], match[0])

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", one, value)


def pod_environment(objects: list[dict], secret_dir: Path, *, database: str) -> dict[str, str]:
    """The ConfigMap's data with the data services pointed at the test suite's,
    and the Secret signet-secrets written as its volume would hold it."""
    pg, redis_url = service_addresses()
    [config] = [o["data"] for o in objects if o["kind"] == "ConfigMap"]
    credentials = pg["user"] + (f":{pg['password']}" if pg["password"] else "")
    database_url = f"postgres://{credentials}@{pg['host']}:{pg['port']}/{database}"
    secret = {
        "django-secret-key": secrets.token_urlsafe(50),
        "mfa-encryption-key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "metrics-token": secrets.token_urlsafe(32),
        "database-password": pg["password"] or "unused-with-trust-auth",
        "database-url": database_url,
        "redis-url": redis_url,
        # Production takes SMTP only; nothing is mailed while pods start.
        "email-url": "smtp://127.0.0.1:1",
    }
    secret_dir.mkdir()
    for key, value in secret.items():
        (secret_dir / key).write_text(value + "\n")  # as --from-file of an `echo` adds
    data = dict(config)
    if "DATABASE_URL" in data:  # dev: the in-namespace service `postgres`
        data["DATABASE_URL"] = f"postgres://{pg['user']}@{pg['host']}:{pg['port']}/{database}"
    if "REDIS_URL" in data:
        data["REDIS_URL"] = redis_url
    data["REDIS_KEY_PREFIX"] = f"signet-k8s-test-{secrets.token_hex(4)}"
    return data


def probe_ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 400


class Pod:
    def __init__(self, template: dict, config: dict[str, str], base: Path, secret_dir: Path):
        self.spec = template["spec"]
        self.config = config
        self.base = base
        self.port = _free_port()
        base.mkdir()
        self.dirs = {}
        for volume in self.spec.get("volumes", []):
            if "secret" in volume:
                self.dirs[volume["name"]] = secret_dir
            else:
                assert "emptyDir" in volume, volume
                self.dirs[volume["name"]] = base / volume["name"]
                self.dirs[volume["name"]].mkdir()
        self.init: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.returncode: int | None = None

    # --- containers ---

    def _mounts(self, container: dict) -> dict[str, Path]:
        return {m["mountPath"]: self.dirs[m["name"]] for m in container.get("volumeMounts", [])}

    def environment(self, container: dict) -> dict[str, str]:
        image_env, _, _ = _image()
        env = {**image_env}
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"].startswith("signet-config")
            env |= self.config
        for var in container.get("env", []):
            if "value" in var:
                env[var["name"]] = expand(var["value"], env)
            else:
                assert var["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}, var
                env[var["name"]] = POD_IP
        mounts = self._mounts(container)
        for key, value in env.items():
            for path in sorted(mounts, key=len, reverse=True):  # the deepest mount holds it
                if value == path or value.startswith(path + "/"):
                    env[key] = str(mounts[path]) + value[len(path) :]
                    break
        # One port per pod on this host; gunicorn binds it (docker/gunicorn.conf.py).
        env["GUNICORN_BIND"] = f"{POD_IP}:{self.port}"
        return {**base_env(), **env}

    def command(self, container: dict) -> list[str]:
        _, entrypoint, workdir = _image()
        assert "command" not in container
        script = ROOT / Path(entrypoint[0]).relative_to(workdir)
        return ["sh", str(script), *entrypoint[1:], *container["args"]]

    def _popen(self, container: dict, log: Path) -> subprocess.Popen:
        with log.open("w") as out:
            return subprocess.Popen(
                self.command(container),
                cwd=ROOT,
                env=self.environment(container),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def start_init(self) -> None:
        [container] = self.spec["initContainers"]
        self.init = self._popen(container, self.base / "init.log")

    def wait_init(self, bound: float) -> None:
        assert self.init is not None
        try:
            self.init.wait(bound)
        except subprocess.TimeoutExpired:
            self.init.kill()
            pytest.fail(f"init container still running after {bound} s:\n{self.init_output()}")
        assert self.init.returncode == 0, self.init_output()

    def start(self) -> None:
        [container] = self.spec["containers"]
        self.web = self._popen(container, self.base / "web.log")

    def run(self) -> list[subprocess.CompletedProcess]:
        """A Job's pod: each of its containers to completion."""
        return [
            subprocess.run(
                self.command(container),
                cwd=ROOT,
                env=self.environment(container),
                capture_output=True,
                text=True,
                timeout=120,
            )
            for container in self.spec["containers"]
        ]

    def init_output(self) -> str:
        return (self.base / "init.log").read_text()

    def output(self) -> str:
        return (self.base / "web.log").read_text()

    def stop(self) -> None:
        for process in (self.init, self.web):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.web is not None:
            self.returncode = self.web.returncode

    # --- probes ---

    def probe(self, kind: str) -> str:
        [container] = self.spec["containers"]
        get = container[kind]["httpGet"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports[get["port"]] == 8000  # the image's PORT, here self.port
        assert not get.get("httpHeaders"), "kubelet's own Host header is the pod IP"
        return get["path"]

    def get(self, path: str, **headers: str) -> int | None:
        conn = http.client.HTTPConnection(POD_IP, self.port, timeout=5)
        headers = {"Host": f"{POD_IP}:{self.port}", "User-Agent": "kube-probe/1.31", **headers}
        try:
            conn.request("GET", path, headers=headers)
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def wait_ready(self, bound: float) -> None:
        """The startup probe until it passes, then readiness, as kubelet orders them."""
        deadline = time.monotonic() + bound
        for kind in ("startupProbe", "readinessProbe"):
            path = self.probe(kind)
            while not probe_ok(self.get(path)):
                if self.web.poll() is not None:
                    pytest.fail(f"exited with {self.web.returncode}:\n{self.output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"{kind} {path} failing after {bound} s:\n{self.output()}")
                time.sleep(0.2)
