"""docker-compose.yml and the image recipe: every service starts in order and only when what it needs is ready.

`docker compose config` is the authority where the compose plugin exists; on machines without
it (this one has the docker CLI but no compose plugin) that check is skipped with the reason and
the file's structure is checked here instead, on the YAML with its anchors resolved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from aligned_common.localrun import DATABASE_SERVICES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = DATABASE_SERVICES  # every service with a schema: a migrate job and a service each
ONE_SHOTS = {"topics", *(f"{s}-migrate" for s in SERVICES)}


def compose_plugin_present() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.skipif(
    not compose_plugin_present(),
    reason="the docker compose plugin is not installed on this machine; "
    "the structure is checked by the other tests of this module",
)
def test_docker_compose_accepts_the_file(tmp_path):
    env = tmp_path / "env"
    env.write_text(
        "".join(
            f"{line.split('=')[0]}=test-value\n"
            for line in (ROOT / "deploy/docker/env.example").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
    )
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_every_service_the_platform_needs_is_composed(compose):
    assert set(SERVICES) | {"kafka", "postgres", "sandbox", "mailpit"} | ONE_SHOTS <= set(compose["services"])
    kafka = compose["services"]["kafka"]
    assert (
        kafka["image"].startswith("apache/kafka:")
        and "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    )
    assert "KAFKA_ZOOKEEPER_CONNECT" not in kafka["environment"], "KRaft: no ZooKeeper"


def test_long_running_services_have_health_checks_and_wait_for_what_they_need(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = "service_completed_successfully" if dependency in ONE_SHOTS else "service_healthy"
            assert rule["condition"] == expected, f"{name} -> {dependency}: {rule}"
        if name not in ONE_SHOTS:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in SERVICES:
        needs = set(services[name]["depends_on"])
        assert f"{name}-migrate" in needs, f"{name} starts before its migrations"
    for name in ONE_SHOTS:
        assert {"kafka"} <= set(services[name]["depends_on"])
    assert set(SERVICES) - {"gateway"} <= set(services["gateway"]["depends_on"])


def test_each_image_runs_its_own_service_and_migrations_use_the_same_image(compose):
    for name in SERVICES:
        service, migrate = compose["services"][name], compose["services"][f"{name}-migrate"]
        assert service["build"]["args"]["SERVICE"] == name == migrate["build"]["args"]["SERVICE"]
        assert service["image"] == migrate["image"] and migrate["command"] == ["migrate"]
        assert service["read_only"] and service["cap_drop"] == ["ALL"]


def test_the_image_entrypoint_exists_for_every_built_service_and_aligned_admin_is_in_every_image(compose):
    """The Dockerfile runs `aligned-${SERVICE}`: each built package must declare that console script."""
    for service in compose["services"].values():
        if "build" not in service:
            continue
        package = service["build"]["args"]["SERVICE"]
        project = tomllib.loads((ROOT / "services" / package / "pyproject.toml").read_text())["project"]
        assert f"aligned-{package}" in project["scripts"], (
            f"{package} has no aligned-{package} console script"
        )
    common = tomllib.loads((ROOT / "libs/common/pyproject.toml").read_text())["project"]
    assert common["scripts"]["aligned-admin"] == "aligned_common.admin.cli:main"
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert (
        "USER 10001" in final_stage and "uv " not in final_stage and "exec aligned-${SERVICE}" in final_stage
    )


def test_mail_goes_to_mailpit_whose_mailbox_is_published_and_dev_tokens_are_a_switch_in_env(compose):
    services = compose["services"]
    mailpit = services["mailpit"]
    assert mailpit["image"] == "axllent/mailpit:v1.33.1" and "8025:8025" in mailpit["ports"]
    approval = services["approval"]["environment"]
    assert (approval["ALIGNED_APPROVAL_SMTP_HOST"], approval["ALIGNED_APPROVAL_SMTP_PORT"]) == (
        "mailpit",
        "1025",
    )
    assert (
        services["gateway"]["environment"]["ALIGNED_GATEWAY_DEV_TOKENS_ENABLED"]
        == "${ALIGNED_GATEWAY_DEV_TOKENS_ENABLED:-false}"
    )
    assert "ALIGNED_GATEWAY_DEV_TOKENS_ENABLED=true" in (ROOT / "deploy/docker/env.example").read_text()


def test_no_secret_is_written_in_the_compose_file(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("SECRET", "PASSWORD", "KEY")):
                assert str(value).startswith("${"), f"{name}.{key} is written in the file"


def _user_of(url: str) -> str:
    # Compose interpolates ${VAR:?message} first; its "?" would otherwise start a query.
    return urlsplit(re.sub(r"\$\{[^}]*\}", "secret", url)).username or ""


def test_services_log_in_as_their_own_roles_and_migrate_as_their_schema_owner_never_the_superuser(compose):
    """As make up and Kubernetes (ADR 0004): the superuser is postgres' own, no service's."""
    services = compose["services"]
    superuser = services["postgres"]["environment"]["POSTGRES_USER"]
    with_migrations = {p.parent.name for p in (ROOT / "services").glob("*/migrations") if p.is_dir()}
    assert set(SERVICES) == with_migrations
    assert services["postgres"]["environment"]["ALIGNED_DB_SERVICES"].split() == list(SERVICES)
    for name, service in services.items():
        env = service.get("environment") or {}
        assert "ALIGNED_DATABASE_URL" not in env, f"{name} has a platform-wide database URL to fall back on"
        for key, value in env.items():
            if key.endswith("DATABASE_URL"):
                assert _user_of(value) != superuser, f"{name}.{key} logs in as the superuser"
    for name in SERVICES:
        up = name.upper()
        login = f"ALIGNED_{up}_DATABASE_URL"
        assert _user_of(services[name]["environment"][login]) == name
        migrate = services[f"{name}-migrate"]["environment"]
        assert _user_of(migrate[login]) == name  # the role the runner checks and grants
        assert _user_of(migrate[f"ALIGNED_{up}_MIGRATION_DATABASE_URL"]) == f"{name}_owner"
        assert "ALIGNED_MIGRATION_DATABASE_URL" not in services[name]["environment"]
        for password in (f"{up}_DB_PASSWORD", f"{up}_OWNER_DB_PASSWORD"):
            assert services["postgres"]["environment"][password].startswith("${"), password
            assert f"{password}=" in (ROOT / "deploy/docker/env.example").read_text(), password


def test_compose_makes_the_roles_with_the_sql_make_up_runs(compose):
    """One source for the roles' SQL: deploy/postgres/service-roles.sh, sourced by the local
    script and by the init script compose's postgres runs on its first start."""
    volumes = compose["services"]["postgres"]["volumes"]
    assert "./deploy/docker/initdb:/docker-entrypoint-initdb.d:ro" in volumes
    assert "./deploy/postgres/service-roles.sh:/aligned/service-roles.sh:ro" in volumes
    init = (ROOT / "deploy/docker/initdb/10-service-roles.sh").read_text()
    local = (ROOT / "deploy/local/postgres.sh").read_text()
    assert "source /aligned/service-roles.sh" in init
    assert 'source "$(dirname "${BASH_SOURCE[0]}")/../postgres/service-roles.sh"' in local
    assert (
        "service_login_role_sql" in init
        and "service_owner_role_sql" in init
        and "service_login_role_sql" in local
    )
    for script in (init, local):
        assert not re.search(r"ALTER ROLE[^;]*NOBYPASSRLS", script), "a service role's SQL written twice"
    assert [p.name for p in (ROOT / "deploy/docker/initdb").iterdir()] == ["10-service-roles.sh"]


def role_sql(*calls: str) -> str:
    """What deploy/postgres/service-roles.sh prints for these calls."""
    script = f'source "{ROOT}/deploy/postgres/service-roles.sh"; ' + "; ".join(calls)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout


def test_the_role_sql_quotes_passwords_and_refuses_bad_names():
    assert "PASSWORD 'it''s'" in role_sql('service_login_role_sql publishing "it\'s"')
    refused = subprocess.run(
        [
            "bash",
            "-c",
            f'source "{ROOT}/deploy/postgres/service-roles.sh"; service_login_role_sql "x; DROP" pw',
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and not refused.stdout


def test_media_goes_to_a_real_s3_server_that_publishing_waits_for(compose):
    s3, publishing = compose["services"]["s3"], compose["services"]["publishing"]
    assert s3["image"].startswith("andrewgaul/s3proxy:") and "healthcheck" in s3
    assert s3["environment"]["JCLOUDS_PROVIDER"] == "filesystem" and s3["volumes"] == ["s3-data:/data"]
    env = publishing["environment"]
    assert env["ALIGNED_PUBLISHING_S3_ENDPOINT_URL"] == "http://s3:80"
    assert (
        env["ALIGNED_PUBLISHING_S3_BUCKET"] == "aligned-media"
        and "/data/aligned-media" in s3["entrypoint"][-1]
    )
    assert publishing["depends_on"]["s3"]["condition"] == "service_healthy"
