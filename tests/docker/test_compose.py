"""compose.yaml and compose.prod.yaml, as the real Compose binary resolves them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from . import PROD_ENV, ROOT, compose, compose_config, settings_variables, web_environment

# Variables the production web service must not take from .env as values:
# debug, the test suite's, and the secrets, which arrive as *_FILE only.
NOT_PASSED_TO_PROD = {
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "MFA_ENCRYPTION_KEY",
    "DATABASE_PASSWORD",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
}


@pytest.fixture(scope="module")
def dev() -> dict:
    return compose_config("compose.yaml", profiles=["test"])


@pytest.fixture(scope="module")
def prod() -> dict:
    return compose_config("compose.prod.yaml", env=PROD_ENV)


def _ports(service: dict) -> list[dict]:
    return service.get("ports", [])


def test_both_files_are_valid():
    assert compose("compose.yaml", "config", "-q").returncode == 0
    assert compose("compose.yaml", "config", "-q", profiles=["test"]).returncode == 0
    result = compose("compose.prod.yaml", "config", "-q", env=PROD_ENV)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(PROD_ENV))
def test_prod_refuses_to_start_without_required_variables(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = compose("compose.prod.yaml", "config", "-q", env=env)
    assert result.returncode != 0
    assert f"required variable {missing} is missing" in result.stderr


# --- development ---------------------------------------------------------------


def test_dev_web_runs_the_dev_target_with_hot_reload(dev):
    web = dev["services"]["web"]
    assert web["build"]["target"] == "dev"
    assert web["command"][-2:] == ["runserver", "0.0.0.0:8000"]
    mounts = [(v["type"], Path(v["source"]), v["target"]) for v in web["volumes"]]
    assert ("bind", ROOT, "/app") in mounts
    assert web["environment"]["DJANGO_MIGRATE_ON_START"] == "1"
    assert web["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.local"
    assert web["healthcheck"]["test"] == ["CMD", "python", "/app/docker/healthcheck.py"]


def test_dev_web_waits_for_healthy_services(dev):
    depends = dev["services"]["web"]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    for name in ("db", "redis"):
        assert dev["services"][name]["healthcheck"]["test"], name


def test_dev_db_is_postgres_17_with_a_named_volume_and_pg_isready(dev):
    db = dev["services"]["db"]
    assert db["image"].startswith("postgres:17")
    volume = db["volumes"][0]
    assert (volume["type"], volume["source"]) == ("volume", "pgdata")
    assert "pgdata" in dev["volumes"]
    test = db["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    user, database = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]
    assert test[test.index("-U") + 1] == user
    assert test[test.index("-d") + 1] == database


def test_dev_mail_goes_to_mailpit_with_its_ui_published(dev):
    mail = dev["services"]["mail"]
    assert mail["image"].startswith("axllent/mailpit:")
    assert [p["target"] for p in _ports(mail)] == [8025]
    assert dev["services"]["web"]["environment"]["EMAIL_URL"] == "smtp://mail:1025"


def test_dev_publishes_ports_on_loopback_only(dev):
    published = [(name, p) for name, s in dev["services"].items() for p in _ports(s)]
    assert published, "the dev server and Mailpit should be reachable"
    for name, port in published:
        assert port.get("host_ip") == "127.0.0.1", (name, port)


def test_dev_test_service_runs_pytest_against_db_and_redis(dev):
    test = dev["services"]["test"]
    assert test["profiles"] == ["test"]
    assert "pytest" in test["entrypoint"]
    env = test["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.test"
    assert "@db:5432/" in env["TEST_DATABASE_URL"]
    assert env["TEST_REDIS_URL"].startswith("redis://redis:6379/")
    assert test["depends_on"]["db"]["condition"] == "service_healthy"


# --- production ---------------------------------------------------------------


def test_prod_web_is_the_runtime_image_running_gunicorn(prod):
    web = prod["services"]["web"]
    assert web["image"] == PROD_ENV["SIGNET_IMAGE"]
    assert web["build"]["target"] == "runtime"
    assert web["command"] == ["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi"]
    assert web["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_prod_web_is_locked_down(prod):
    web = prod["services"]["web"]
    uid, _, gid = web["user"].partition(":")
    assert int(uid) >= 1000 and int(gid) >= 1000
    assert web["read_only"] is True
    assert "/tmp" in web["tmpfs"]
    assert web["init"] is True
    assert web["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in web["security_opt"]
    assert web["restart"] == "unless-stopped"
    assert web["healthcheck"]["test"] == ["CMD", "python", "/app/docker/healthcheck.py"]
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"


def test_prod_secrets_are_files_never_values(prod):
    web, db = prod["services"]["web"], prod["services"]["db"]
    mounted = {s["source"]: s["target"] for s in web["secrets"]}
    assert web["environment"]["DJANGO_SECRET_KEY_FILE"] == mounted["django_secret_key"]
    assert web["environment"]["DATABASE_PASSWORD_FILE"] == mounted["postgres_password"]
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert all("file" in secret for secret in prod["secrets"].values())
    for name, service in prod["services"].items():
        for key in service.get("environment", {}):
            if re.search(r"(SECRET_KEY|PASSWORD|TOKEN)$", key):
                assert key.endswith("_FILE"), f"{name}: {key} would put a secret in the environment"


def test_prod_scales_only_the_proxy_publishes_ports(prod):
    for name, service in prod["services"].items():
        assert "container_name" not in service, name
        if name != "proxy":
            assert not _ports(service), f"{name} publishes {service['ports']}"
    assert {p["target"] for p in _ports(prod["services"]["proxy"])} == {8080, 8443}


def test_prod_data_services_sit_on_an_internal_network_with_named_volumes(prod):
    assert prod["networks"]["backend"]["internal"] is True
    for name in ("db", "redis"):
        service = prod["services"][name]
        assert set(service["networks"]) == {"backend"}, name
        assert service["healthcheck"]["test"], name
        assert service["restart"] == "unless-stopped"
        assert [v["type"] for v in service["volumes"]] == ["volume"], name
    test = prod["services"]["db"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"] and "-U" in test and "-d" in test
    assert set(prod["volumes"]) == {"pgdata", "redisdata"}


def test_prod_proxy_is_unprivileged_and_read_only(prod):
    proxy = prod["services"]["proxy"]
    assert proxy["user"] != "0" and not proxy["user"].startswith("0:")
    assert proxy["read_only"] is True and proxy["cap_drop"] == ["ALL"]
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert [c["target"] for c in proxy["configs"]] == ["/etc/nginx/nginx.conf"]
    env = prod["services"]["web"]["environment"]
    assert env["DJANGO_SECURE_PROXY_SSL_HEADER"] == "true"
    assert env["TRUSTED_PROXY_COUNT"] == "1"


# --- variables -------------------------------------------------------------------


def test_env_example_lists_every_variable_the_settings_read():
    text = (ROOT / ".env.example").read_text()
    missing = {name for name in settings_variables() if f"{name}=" not in text}
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_is_a_working_start(tmp_path):
    for file in ("compose.yaml", "compose.prod.yaml"):
        result = compose(file, "config", "-q", env_file=ROOT / ".env.example")
        assert result.returncode == 0, result.stderr


def test_prod_web_receives_every_setting_it_may_need(prod):
    env = prod["services"]["web"]["environment"]
    passed = set(env) | {name.removesuffix("_FILE") for name in env}
    missing = settings_variables() - NOT_PASSED_TO_PROD - passed
    assert not missing, f"pass these to web in compose.prod.yaml: {sorted(missing)}"


def test_check_deploy_passes_with_the_prod_environment(tmp_path):
    env = web_environment(tmp_path, database="signet")
    result = subprocess.run(
        ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_prod_web_keeps_the_image_malloc_settings_unless_told(prod):
    # Null: Compose leaves the variable unset, so the image's ENV applies.
    assert prod["services"]["web"]["environment"]["GLIBC_TUNABLES"] is None
    opted_out = compose_config("compose.prod.yaml", env={**PROD_ENV, "GLIBC_TUNABLES": ""})
    assert opted_out["services"]["web"]["environment"]["GLIBC_TUNABLES"] == ""
