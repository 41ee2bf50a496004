"""docker/kubernetes/, without a cluster: rendered by kubectl's own Kustomize,
every object validated against the Kubernetes schemas, the properties users
rely on asserted on the rendered objects, and the web pod run on the host.

The ServiceMonitor (components/servicemonitor) is a Prometheus Operator
CRD, which Kubernetes' schemas do not describe: it is rendered and its
fields asserted, never schema-validated (CRD_KINDS).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import kubernetes_validate
except ImportError:  # the dev image leaves the host-only tools out (docker/lock.py)
    if os.environ.get("CI"):
        raise
    pytest.skip(
        "kubernetes-validate is not installed (pyproject.toml [dev])", allow_module_level=True
    )

from . import ROOT
from ._manifests import (
    KUSTOMIZE,
    config,
    containers,
    one,
    pod_specs,
    render,
    signet_pods,
    web_container,
    with_servicemonitor,
)
from ._pods import Pod, expand, pod_environment, probe_ok, quantity
from .test_entrypoint import _applied_migrations, fresh_db  # noqa: F401

OVERLAYS = ("dev", "production")
# The oldest Kubernetes release still widely run (managed offers) and the newest.
K8S_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
CRD_KINDS = {"ServiceMonitor"}
SECRET_NAME = "signet-secrets"
# README "Measured": a worker is 70-80 MiB resident; argon2 maps 19 MiB per check.
WORKER_MIB, ARGON2_MIB = 80, 19
DNS = {("UDP", 53), ("TCP", 53)}
EGRESS = DNS | {("TCP", p) for p in (5432, 6379, 26379, 25, 465, 587, 443)}
POD_BOUND = 60  # the startup probe's own bound: periodSeconds 2 x failureThreshold 30


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(KUSTOMIZE / "overlays" / request.param)


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render(KUSTOMIZE / "overlays" / "production")


@pytest.fixture(scope="module")
def monitored() -> Iterator[list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        yield render(with_servicemonitor(Path(tmp)))


# --- schemas -----------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay, version):
    name, objects = overlay
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}")


def test_only_the_crds_are_left_unvalidated(monitored):
    version = K8S_VERSIONS[-1]
    for obj in monitored:
        if obj["kind"] in CRD_KINDS:
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(obj, version, strict=True)
        else:
            kubernetes_validate.validate(obj, version, strict=True)


# --- the pods ----------------------------------------------------------------


def test_every_pod_is_unprivileged_and_read_only(overlay):
    _, objects = overlay
    uid = int(re.search(r"--uid (\d+)", (KUSTOMIZE.parents[0] / "Dockerfile").read_text())[1])
    for workload, template in pod_specs(objects).items():
        pod = template["spec"]
        assert pod["automountServiceAccountToken"] is False, workload
        assert pod["securityContext"]["runAsNonRoot"] is True, workload
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, workload
        for c in containers(template):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (workload, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (workload, c["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (workload, c["name"])
            assert c["resources"]["limits"]["memory"], (workload, c["name"])
    for workload, template in signet_pods(objects).items():
        assert template["spec"]["securityContext"]["runAsUser"] == uid == 10001, workload
        assert template["spec"]["securityContext"]["fsGroup"] == uid, workload
        for c in containers(template):
            assert c["securityContext"]["runAsUser"] == uid, (workload, c["name"])
            assert "command" not in c, "the image's entrypoint must run (it waits for PostgreSQL)"


def test_web_probes_ask_the_health_endpoints(overlay):
    _, objects = overlay
    web = web_container(objects)
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert ports == {"http": 8000}
    probes = {kind: web[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = web["readinessProbe"]["httpGet"]
    assert {k: (p["path"], p["port"]) for k, p in probes.items()} == {
        "startupProbe": ("/health/live", "http"),
        "livenessProbe": ("/health/live", "http"),
        "readinessProbe": ("/health", "http"),
    }
    startup = web["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] == POD_BOUND


@pytest.mark.parametrize("pod_ip", ["10.244.1.7", "fd00:10:244::7"])
def test_web_answers_requests_for_its_pod_address(overlay, pod_ip):
    """kubelet and Prometheus send Host: <pod IP>:8000 ([<IPv6>]:8000)."""
    from django.http.request import split_domain_port, validate_host

    _, objects = overlay
    env = dict(config(objects))
    for var in web_container(objects)["env"]:
        env[var["name"]] = pod_ip if "valueFrom" in var else expand(var["value"], env)
    allowed = env["DJANGO_ALLOWED_HOSTS"].split(",")
    url_host = f"[{pod_ip}]" if ":" in pod_ip else pod_ip
    domain, _ = split_domain_port(f"{url_host}:8000")
    assert validate_host(domain, allowed)
    assert not validate_host("attacker.example", allowed)


def test_web_resources_are_sized_from_the_measured_workers(overlay):
    _, objects = overlay
    workers = int(config(objects)["WEB_CONCURRENCY"])
    resources = web_container(objects)["resources"]
    needed = ((workers + 1) * WORKER_MIB + workers * ARGON2_MIB) * 2**20
    assert needed <= quantity(resources["requests"]["memory"])
    assert quantity(resources["requests"]["memory"]) <= quantity(resources["limits"]["memory"])
    assert quantity(resources["limits"]["memory"]) <= 1.5 * needed, "sized, not guessed"
    # A sync worker uses at most one core: more is never used, less throttles argon2.
    assert quantity(resources["limits"]["cpu"]) == workers
    assert 0 < quantity(resources["requests"]["cpu"]) <= workers


def test_every_setting_is_one_signet_reads(overlay):
    """A misspelt name in signet.env would be ignored without a word."""
    _, objects = overlay
    documented = set(
        re.findall(r"^(?:# ?)?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    )
    documented.add("PROMETHEUS_MULTIPROC_DIR")  # README "Operations"; not a setting of its own
    names = {name.removesuffix("_FILE") for name in config(objects)}
    assert names - documented == set()


# --- secrets -------------------------------------------------------------------


def test_no_secret_is_in_the_rendered_output_only_referenced(overlay, monitored):
    name, objects = overlay
    assert not [o for o in objects + monitored if o["kind"] == "Secret"]
    data = config(objects)
    for key, value in data.items():
        assert not re.search(r"(SECRET_KEY|PASSWORD|TOKEN)$", key), f"{key} as a value"
        assert not re.search(r"://[^/@]*:[^/@]*@", value), f"{key} carries a password"
    for workload, template in signet_pods(objects).items():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        for c in containers(template):
            for env in c.get("env", []):
                assert not re.search(r"(KEY|PASSWORD|TOKEN|URL)$", env["name"]), env
            mounted = {
                m["mountPath"]: volumes[m["name"]]["secret"]["secretName"]
                for m in c["volumeMounts"]
                if "secret" in volumes[m["name"]]
            }
            assert mounted == {"/run/secrets/signet": SECRET_NAME}, (workload, c["name"])
    files = {k: v for k, v in data.items() if k.endswith("_FILE")}
    assert {"DJANGO_SECRET_KEY_FILE", "METRICS_TOKEN_FILE"} <= set(files)
    assert all(v.startswith("/run/secrets/signet/") for v in files.values()), files
    wanted = {
        "dev": {"DATABASE_PASSWORD_FILE"},
        "production": {"DATABASE_URL_FILE", "REDIS_URL_FILE", "EMAIL_URL_FILE"},
    }[name]
    assert wanted <= set(files)
    if "DATABASE_URL_FILE" in files:  # production: the URLs carry passwords
        assert "DATABASE_URL" not in data and "REDIS_URL" not in data


# --- migrations, housekeeping ---------------------------------------------------


def test_migrations_run_in_the_init_container_under_the_entrypoint_lock(overlay):
    _, objects = overlay
    assert not [o for o in objects if o["kind"] == "Job"]
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["image"] == pod["containers"][0]["image"]
    assert {"name": "DJANGO_MIGRATE_ON_START", "value": "1"} in init["env"]
    assert config(objects)["DJANGO_MIGRATE_ON_START"] == "0"  # the server and the CronJobs
    assert not any(e["name"] == "DJANGO_MIGRATE_ON_START" for e in pod["containers"][0]["env"])


def test_housekeeping_runs_daily_one_at_a_time(overlay):
    _, objects = overlay
    jobs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "CronJob"}
    commands = {
        name: [
            c["args"] for c in job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        ]
        for name, job in jobs.items()
    }
    assert commands == {
        "signet-clearsessions": [
            ["python", "manage.py", "clearsessions"],
            ["python", "manage.py", "prune_refresh_tokens"],
        ],
        "signet-prune-auth-events": [["python", "manage.py", "prune_auth_events"]],
    }
    for job in jobs.values():
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        assert len(job["spec"]["schedule"].split()) == 5


# --- network -------------------------------------------------------------------


def _ports(rule: dict) -> set[tuple[str, int]]:
    return {(p.get("protocol", "TCP"), p["port"]) for p in rule["ports"]}


def test_network_policy_lets_signet_reach_only_its_services(overlay):
    name, objects = overlay
    policy = one(objects, "NetworkPolicy")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    for workload, template in signet_pods(objects).items():
        labels = template["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items(), workload
    egress = policy["egress"]
    assert all(rule.get("ports") for rule in egress), "a rule without ports allows everything"
    assert set().union(*map(_ports, egress)) == EGRESS
    to = {port: rule.get("to") for rule in egress for port in _ports(rule)}
    dns = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]  # fmt: skip
    assert all(to[port] == dns for port in DNS)
    if name == "dev":  # the namespace's own data services, nothing else on their ports
        selector = {("TCP", 5432): "postgres", ("TCP", 6379): "redis"}
        for port, app in selector.items():
            assert to[port] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": app}}}]
    [inbound] = policy["ingress"]
    assert _ports(inbound) == {("TCP", "http")}
    sources = {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for s in inbound["from"]}  # fmt: skip
    assert sources == {"ingress-nginx", "monitoring"}


def test_production_scales_on_cpu_and_drains_one_pod_at_a_time(production):
    deployment = one(production, "Deployment")
    assert "replicas" not in deployment["spec"], "the HPA owns the count; apply must not reset it"
    hpa = one(production, "HorizontalPodAutoscaler")["spec"]
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "signet"}
    assert hpa["scaleTargetRef"] == target
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
    assert hpa["minReplicas"] >= 2
    pdb = one(production, "PodDisruptionBudget")["spec"]
    assert pdb["maxUnavailable"] == 1
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    strategy = deployment["spec"]["strategy"]["rollingUpdate"]
    assert strategy == {"maxSurge": 1, "maxUnavailable": 0}


def test_dev_is_one_pod_with_its_own_data_services():
    objects = render(KUSTOMIZE / "overlays" / "dev")
    assert one(objects, "Deployment")["spec"]["replicas"] == 1
    assert not [o for o in objects if o["kind"] in ("HorizontalPodAutoscaler", "Ingress")]
    services = {o["metadata"]["name"] for o in objects if o["kind"] == "Service"}
    assert {"postgres", "redis"} <= services
    data = config(objects)
    assert data["DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
    assert data["REDIS_URL"].startswith("redis://redis:6379/")


def test_ingress_ends_tls_for_the_allowed_host_with_one_trusted_proxy(production):
    ingress = one(production, "Ingress")["spec"]
    data = config(production)
    host = data["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    assert ingress["ingressClassName"] == "nginx"
    assert [r["host"] for r in ingress["rules"]] == [host]
    assert ingress["tls"] == [{"hosts": [host], "secretName": "signet-tls"}]
    # ingress-nginx replaces X-Forwarded-For (its default): exactly one trusted hop.
    assert data["TRUSTED_PROXY_COUNT"] == "1"
    assert data["DJANGO_SECURE_PROXY_SSL_HEADER"] == "true"
    annotations = one(production, "Ingress")["metadata"]["annotations"]
    assert not any("forwarded" in a for a in annotations)
    service = one(production, "Service")
    for path in ingress["rules"][0]["http"]["paths"]:
        assert path["backend"]["service"] == {"name": "signet", "port": {"name": "http"}}
        prefix = path["path"].rstrip("/")
        exposes = "/metrics" == prefix or (
            path["pathType"] == "Prefix" and "/metrics".startswith(prefix + "/")
        )
        assert not exposes, f"{path['path']} routes /metrics to the public"
    assert [p["name"] for p in service["spec"]["ports"]] == ["http"]


def test_servicemonitor_scrapes_with_the_token_the_pods_read(monitored):
    monitor = one(monitored, "ServiceMonitor")
    assert monitor["metadata"]["namespace"] == "signet"
    service = one(monitored, "Service")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    assert endpoint["authorization"]["type"] == "Bearer"
    assert credentials["name"] == SECRET_NAME
    assert config(monitored)["METRICS_TOKEN_FILE"] == f"/run/secrets/signet/{credentials['key']}"


# --- the web pod, run on the host ---------------------------------------------------


@pytest.mark.parametrize("name", OVERLAYS)
def test_three_pods_at_once_migrate_once_and_all_become_ready(name, tmp_path, fresh_db):  # noqa: F811
    objects = render(KUSTOMIZE / "overlays" / name)
    template = one(objects, "Deployment")["spec"]["template"]
    secret_dir = tmp_path / "secret"
    env = pod_environment(objects, secret_dir, database=fresh_db)
    pods = [Pod(template, env, tmp_path / f"pod{i}", secret_dir) for i in range(3)]
    try:
        for pod in pods:
            pod.start_init()
        for pod in pods:
            pod.wait_init(POD_BOUND)
            pod.start()
        for pod in pods:
            pod.wait_ready(POD_BOUND)
        token = (secret_dir / "metrics-token").read_text().strip()
        first = pods[0]
        assert first.get("/metrics", Authorization=f"Bearer {token}") == 200
        assert first.get("/metrics") == 404
        assert first.get("/health", Host="attacker.example") == 400  # only its own names
        assert all(probe_ok(p.get(p.probe("livenessProbe"))) for p in pods)
        for job in (o for o in objects if o["kind"] == "CronJob"):
            job_template = job["spec"]["jobTemplate"]["spec"]["template"]
            for result in Pod(
                job_template, env, tmp_path / job["metadata"]["name"], secret_dir
            ).run():
                assert result.returncode == 0, result.stdout + result.stderr
    finally:
        for pod in pods:
            pod.stop()
    assert all(pod.returncode == 0 for pod in pods), [p.output() for p in pods]
    applied_by = [re.findall(r"Applying (\S+)\.\.\. OK", pod.init_output()) for pod in pods]
    rows = _applied_migrations(fresh_db)
    assert len(rows) == len(set(rows)) > 0
    assert sorted(n for names in applied_by for n in names) == sorted(
        f"{app}.{m}" for app, m in rows
    )
    assert sum(1 for names in applied_by if names) == 1, "exactly one pod migrated"
