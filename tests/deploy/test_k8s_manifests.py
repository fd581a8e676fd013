"""deploy/k8s: every overlay renders and is valid against the Kubernetes and operator schemas.

kustomize renders each overlay; kubeconform validates every resource offline, strictly
(unknown fields fail) against the Kubernetes 1.32 schemas and the CRDs of Strimzi,
CloudNativePG, KEDA, external-secrets and the Prometheus operator. Tools and schemas come
from package registries through deploy/k8s/tools.sh and are cached in .local/k8s, so only
the first run on a machine downloads (about a minute). On top of the schemas, the rules this
project sets for itself are checked on the rendered prod output.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aligned_common.events.registry import ALL_TOPICS, dlq_of

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TOOLS = Path(os.environ.get("ALIGNED_K8S_TOOLS", ROOT / ".local" / "k8s"))
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
SERVICES = ("publishing", "approval", "connections", "analytics", "webhooks", "gateway")


@pytest.fixture(scope="session")
def tools() -> Path:
    result = subprocess.run(
        ["bash", str(K8S / "tools.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert result.returncode == 0, (
        f"deploy/k8s/tools.sh failed (registries unreachable?):\n{result.stderr[-3000:]}"
    )
    return TOOLS


def render(tools: Path, directory: Path) -> str:
    result = subprocess.run(
        [str(tools / "bin" / "kustomize"), "build", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def kubeconform(tools: Path, manifests: str) -> subprocess.CompletedProcess:
    version = (tools / "versions.env").read_text().split("=", 1)[1].strip()
    return subprocess.run(
        [
            str(tools / "bin" / "kubeconform"),
            "-strict",
            "-summary",
            "-kubernetes-version",
            version,
            "-schema-location",
            str(tools / "schemas" / "kubernetes")
            + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
            "-schema-location",
            str(tools / "schemas" / "crds")
            + "/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
            "-",
        ],
        input=manifests,
        capture_output=True,
        text=True,
        timeout=300,
    )


def docs_of(manifests: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(manifests) if d]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="session")
def prod(tools) -> list[dict]:
    return docs_of(render(tools, K8S / "overlays" / "prod"))


def test_generated_manifests_match_the_service_table():
    result = subprocess.run(
        [sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_resource_is_valid_against_its_schema(tools, overlay):
    result = kubeconform(tools, render(tools, K8S / "overlays" / overlay))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(
        r"(\d+) resources found.*Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)", result.stdout
    )
    found, valid, invalid, errors, skipped = map(int, summary.groups())
    assert found == valid > 90 and invalid == errors == skipped == 0, result.stdout


def test_a_manifest_that_breaks_a_schema_is_rejected(tools, tmp_path):
    """The validation has teeth: one wrong field in a Kubernetes and in each operator's resource fails."""
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": [os.path.relpath(K8S / "overlays" / "dev", tmp_path)],
                "patches": [
                    {
                        "target": {"kind": "KafkaTopic", "name": "aligned-publishing-events"},
                        "patch": "- {op: add, path: /spec/replicationFactor, value: 3}",
                    },
                    {
                        "target": {"kind": "Cluster", "name": "aligned-pg"},
                        "patch": "- {op: replace, path: /spec/instances, value: three}",
                    },
                    {
                        "target": {"kind": "Deployment", "name": "gateway"},
                        "patch": "- {op: add, path: /spec/template/spec/containers/0/livenessProbe/httpGet/pathx, value: /x}",
                    },
                    {
                        "target": {"kind": "ExternalSecret", "name": "aligned-internal"},
                        "patch": "- {op: add, path: /spec/target/creationPolice, value: Owner}",
                    },
                    {
                        "target": {"kind": "ServiceMonitor", "name": "gateway"},
                        "patch": "- {op: add, path: /spec/endpoints/0/intervall, value: 5s}",
                    },
                ],
            }
        )
    )
    result = kubeconform(tools, render(tools, tmp_path))
    assert result.returncode != 0
    for fragment in (
        "KafkaTopic aligned-publishing-events is invalid",
        "Cluster aligned-pg is invalid",
        "Deployment gateway is invalid",
        "ExternalSecret aligned-internal is invalid",
        "ServiceMonitor gateway is invalid",
    ):
        assert fragment in result.stdout, result.stdout


def test_prod_kafka_has_every_topic_and_dlq_replicated_three_times_with_two_in_sync(prod):
    topics = {d["spec"]["topicName"]: d["spec"] for d in prod if d["kind"] == "KafkaTopic"}
    assert set(topics) == set(ALL_TOPICS) | {dlq_of(t) for t in ALL_TOPICS}
    assert all(s["replicas"] == 3 and s["config"]["min.insync.replicas"] == 2 for s in topics.values())
    kafka = by_kind(prod, "Kafka")["aligned-kafka"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    pools = by_kind(prod, "KafkaNodePool")
    assert {tuple(p["spec"]["roles"]) for p in pools.values()} == {("controller",), ("broker",)}


# The gateway's live feed (GET /v1/events/stream) assigns itself every topic's partitions:
# it reads, with no consumer group and nothing to dead-letter.
FOLLOWED_WITHOUT_A_GROUP = {"gateway": set(ALL_TOPICS)}


def test_the_gateways_kafka_user_may_read_every_topic_its_live_feed_follows(prod):
    acls = by_kind(prod, "KafkaUser")["gateway"]["spec"]["authorization"]["acls"]
    reads = {
        a["resource"]["name"] for a in acls if a["resource"]["type"] == "topic" and "Read" in a["operations"]
    }
    assert set(ALL_TOPICS) <= reads


def test_each_service_kafka_user_reads_what_its_consumers_subscribe_to_and_writes_only_its_topic(
    prod, monkeypatch
):
    users = by_kind(prod, "KafkaUser")
    # build() refuses connections and webhooks without their keys (their pods get them from Secrets).
    key = base64.b64encode(bytes(32)).decode()
    monkeypatch.setenv("ALIGNED_CONNECTIONS_ENCRYPTION_KEYS", json.dumps({"k1": key}))
    monkeypatch.setenv("ALIGNED_CONNECTIONS_ACTIVE_KEY_ID", "k1")
    monkeypatch.setenv("ALIGNED_CONNECTIONS_STATE_SECRET", "manifest-test-state-secret")
    monkeypatch.setenv("ALIGNED_WEBHOOKS_ENCRYPTION_KEY", key)
    for service in SERVICES:
        definition = importlib.import_module(f"aligned_{service}.bootstrap").build()
        routers = ([definition.event_router] if definition.event_router else []) + list(
            definition.extra_event_routers
        )
        acls = users[service]["spec"]["authorization"]["acls"]
        reads = {
            a["resource"]["name"]
            for a in acls
            if a["resource"]["type"] == "topic" and "Read" in a["operations"]
        }
        writes = {
            a["resource"]["name"]
            for a in acls
            if a["resource"]["type"] == "topic" and "Write" in a["operations"]
        }
        groups = [a["resource"] for a in acls if a["resource"]["type"] == "group"]
        needed = {t for r in routers for t in r.topics()}
        assert needed <= reads, f"{service} consumes {sorted(needed - reads)} without a Read ACL"
        consumed = reads - FOLLOWED_WITHOUT_A_GROUP.get(service, set())
        assert writes == {f"aligned.{service}.events"} | {dlq_of(t) for t in consumed}
        assert all(
            a["resource"]["patternType"] == "literal" for a in acls if a["resource"]["type"] == "topic"
        )
        for router in routers:
            assert any(
                g["patternType"] == "prefix" and f"aligned-{router.service}".startswith(g["name"])
                for g in groups
            )


def test_prod_postgres_has_three_instances_backups_and_a_role_per_service_owning_its_schema(prod):
    cluster = by_kind(prod, "Cluster")["aligned-pg"]["spec"]
    assert cluster["instances"] == 3
    assert (
        cluster["backup"]["barmanObjectStore"]["s3Credentials"]["accessKeyId"]["name"] == "aligned-pg-backup"
    )
    assert by_kind(prod, "ScheduledBackup")["aligned-pg-daily"]["spec"]["cluster"]["name"] == "aligned-pg"
    roles = {r["name"]: r for r in cluster["managed"]["roles"]}
    assert set(SERVICES) <= set(roles) and not any(
        r.get("superuser") or r.get("bypassrls") for r in roles.values()
    )
    schemas = {s["name"]: s["owner"] for s in by_kind(prod, "Database")["aligned"]["spec"]["schemas"]}
    assert {name: schemas.get(name) for name in SERVICES} == {name: f"{name}_owner" for name in SERVICES}
    for name in SERVICES:
        # What the pods log in as owns nothing and may not make roles (ADR 0004); NOINHERIT so
        # its membership of <name>_worker counts only after an explicit SET ROLE.
        assert not roles[name]["createrole"] and not roles[name]["inherit"], name
        assert roles[f"{name}_owner"]["login"], name


def test_only_the_migration_job_has_the_schema_owners_password(prod):
    for name in SERVICES:
        pod = by_kind(prod, "Deployment")[name]["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            refs = {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container["env"]
                if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]
            }
            assert f"{name}-owner-db" not in refs and f"{name}-db" in refs, name
        job = by_kind(prod, "Job")[f"{name}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in job["env"]}
        assert env["ALIGNED_DB_OWNER_USER"]["valueFrom"]["secretKeyRef"]["name"] == f"{name}-owner-db"
        assert "ALIGNED_DB_OWNER_USER" in env["ALIGNED_MIGRATION_DATABASE_URL"]["value"]


def test_no_secret_value_is_in_the_manifests(prod):
    assert not [d for d in prod if d["kind"] == "Secret"]
    external = by_kind(prod, "ExternalSecret")
    for deployment in by_kind(prod, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                if re.search(r"SECRET|PASSWORD|KEYS?$", env["name"]):
                    assert "valueFrom" in env, f"{env['name']} has a literal value"
    assert {
        "aligned-internal",
        "connections-secrets",
        "webhooks-secrets",
        "gateway-jwt",
        "aligned-pg-backup",
    } <= set(external)


def test_service_pods_are_hardened_probed_and_spread(prod):
    for name in SERVICES:
        spec = by_kind(prod, "Deployment")[name]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        security = container["securityContext"]
        assert (
            security["readOnlyRootFilesystem"]
            and security["runAsNonRoot"]
            and security["capabilities"]["drop"] == ["ALL"]
        )
        assert container["resources"]["requests"] and spec["topologySpreadConstraints"]
        assert spec["initContainers"][0]["command"][:3] == ["aligned-admin", "migrations", "wait"]
        for kind in (
            "Service",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "ServiceMonitor",
            "NetworkPolicy",
            "Job",
        ):
            assert any(d["kind"] == kind and d["metadata"]["name"].startswith(name) for d in prod), (
                f"{name}: no {kind}"
            )


def test_only_the_gateway_is_reachable_from_outside(prod):
    ingress = by_kind(prod, "Ingress")["aligned"]
    routes = {
        p["path"]: p["backend"]["service"]["name"]
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert routes == {"/": "gateway"}  # inbound webhooks too: the gateway bounds and forwards them
    policies = by_kind(prod, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    from_ingress = {
        n
        for n, p in policies.items()
        for rule in p["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
        == "ingress-nginx"
    }
    assert from_ingress == {"gateway"}
    to_internet = {
        n
        for n, p in policies.items()
        for rule in p["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    }
    # SMTP, platform APIs, outbound deliveries, the media object store's HTTPS endpoint
    assert to_internet == {"approval", "connections", "webhooks", "publishing"}


def test_publishing_takes_the_object_store_from_a_secret_and_keeps_no_media_volume(prod):
    pod = by_kind(prod, "Deployment")["publishing"]["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    for name in ("ENDPOINT_URL", "BUCKET", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
        ref = env[f"ALIGNED_PUBLISHING_S3_{name}"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "publishing-secrets" and not ref.get("optional")
    assert all("persistentVolumeClaim" not in v and "hostPath" not in v for v in pod["volumes"])
    assert {v["name"] for v in pod["volumes"]} == {"tmp", "kafka-ca"}


def test_sandbox_is_deployed_in_dev_only(tools, prod):
    dev = docs_of(render(tools, K8S / "overlays" / "dev"))
    assert "sandbox" in by_kind(dev, "Deployment") and "sandbox" not in by_kind(prod, "Deployment")


def test_kafka_down_is_an_alert_not_a_readiness_failure(prod):
    rules = [
        r for d in prod if d["kind"] == "PrometheusRule" for g in d["spec"]["groups"] for r in g["rules"]
    ]
    kafka = [r for r in rules if "aligned_kafka_up" in r["expr"]]
    assert kafka and any(r["labels"]["severity"] == "critical" for r in kafka)
    # The gauge the rules read is the one the services export.
    from aligned_common.metrics import KAFKA_UP

    assert KAFKA_UP._name == "aligned_kafka_up" and "schema" in KAFKA_UP._labelnames
