"""docker-compose.yml and the image recipe: every service starts in order and only when what it needs is ready.

`docker compose config` is the authority where the compose plugin exists; on machines without
it (this one has the docker CLI but no compose plugin) that check is skipped with the reason and
the file's structure is checked here instead, on the YAML with its anchors resolved.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("publishing", "approval", "connections", "analytics", "webhooks", "gateway")
ONE_SHOTS = {"topics", *(f"{s}-migrate" for s in SERVICES)}


def compose_plugin_present() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.skipif(not compose_plugin_present(), reason="the docker compose plugin is not installed on this machine; "
                    "the structure is checked by the other tests of this module")
def test_docker_compose_accepts_the_file(tmp_path):
    env = tmp_path / "env"
    env.write_text("".join(f"{line.split('=')[0]}=test-value\n" for line in
                           (ROOT / "deploy/docker/env.example").read_text().splitlines() if "=" in line and not line.startswith("#")))
    result = subprocess.run(["docker", "compose", "--env-file", str(env), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_every_service_the_platform_needs_is_composed(compose):
    assert set(SERVICES) | {"kafka", "postgres", "sandbox"} | ONE_SHOTS <= set(compose["services"])
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:") and "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
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
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        package = service["build"]["args"]["SERVICE"]
        project = tomllib.loads((ROOT / "services" / package / "pyproject.toml").read_text())["project"]
        assert f"aligned-{package}" in project["scripts"], f"{package} has no aligned-{package} console script"
    common = tomllib.loads((ROOT / "libs/common/pyproject.toml").read_text())["project"]
    assert common["scripts"]["aligned-admin"] == "aligned_common.admin.cli:main"
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "USER 10001" in final_stage and "uv " not in final_stage and 'exec aligned-${SERVICE}' in final_stage


def test_no_secret_is_written_in_the_compose_file(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("SECRET", "PASSWORD", "KEY")):
                assert str(value).startswith("${"), f"{name}.{key} is written in the file"


def test_media_goes_to_a_real_s3_server_that_publishing_waits_for(compose):
    s3, publishing = compose["services"]["s3"], compose["services"]["publishing"]
    assert s3["image"].startswith("andrewgaul/s3proxy:") and "healthcheck" in s3
    assert s3["environment"]["JCLOUDS_PROVIDER"] == "filesystem" and s3["volumes"] == ["s3-data:/data"]
    env = publishing["environment"]
    assert env["ALIGNED_PUBLISHING_S3_ENDPOINT_URL"] == "http://s3:80"
    assert env["ALIGNED_PUBLISHING_S3_BUCKET"] == "aligned-media" and "/data/aligned-media" in s3["entrypoint"][-1]
    assert publishing["depends_on"]["s3"]["condition"] == "service_healthy"
