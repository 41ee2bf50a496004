"""docker/kubernetes/ rendered by kubectl's Kustomize, and ways to find things in it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from . import ROOT, tool

KUSTOMIZE = ROOT / "docker" / "kubernetes"


def render(path: Path) -> list[dict]:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def with_servicemonitor(tmp: Path) -> Path:
    """An overlay of production plus the optional component, as README says to add it."""
    rel = os.path.relpath(KUSTOMIZE, tmp)
    (tmp / "kustomization.yaml").write_text(
        "namespace: signet\n"
        f"resources: [{rel}/overlays/production]\n"
        f"components: [{rel}/components/servicemonitor]\n"
    )
    return tmp


def one(objects: list[dict], kind: str, name: str = "signet") -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_specs(objects: list[dict]) -> dict[str, dict]:
    """Every pod template, by workload: Deployment, StatefulSet, CronJob."""
    specs = {}
    for o in objects:
        spec = o.get("spec", {})
        if o["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            specs[f"{o['kind']}/{o['metadata']['name']}"] = spec["template"]
    return specs


def signet_pods(objects: list[dict]) -> dict[str, dict]:
    return {
        name: t
        for name, t in pod_specs(objects).items()
        if t["metadata"]["labels"].get("app.kubernetes.io/name") == "signet"
    }


def containers(template: dict) -> list[dict]:
    return template["spec"].get("initContainers", []) + template["spec"]["containers"]


def web_container(objects: list[dict]) -> dict:
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def config(objects: list[dict]) -> dict[str, str]:
    maps = [o for o in objects if o["kind"] == "ConfigMap"]
    assert [m["metadata"]["name"].rsplit("-", 1)[0] for m in maps] == ["signet-config"]
    return maps[0]["data"]
