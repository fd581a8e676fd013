"""Where the tests' real Kafka, PostgreSQL, S3 object store and mail server come from.

One place decides: with a Docker engine that answers, testcontainers starts the
official images; without one (these build machines), the project's own local
processes from deploy/local are started (idempotently) and used. Either way the
tests talk to a real broker and a real database, never a fake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

from aligned_common.localrun import (
    REPO_ROOT,
    MailServer,
    ObjectStoreLocation,
    local_mail_server,
    local_object_store,
)

LOCAL_SCRIPTS = REPO_ROOT / "deploy" / "local"


def docker_engine_answers() -> bool:
    if os.environ.get("ALIGNED_TEST_INFRA") == "local" or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class Infra:
    database_url: str
    kafka_bootstrap: str
    kind: str  # "local" or "testcontainers"
    object_store: ObjectStoreLocation = field(default_factory=local_object_store)
    mail: MailServer = field(default_factory=local_mail_server)
    _containers: list = field(default_factory=list)

    # Fault injection for tests that stop the broker or the database mid-run.
    def stop_kafka(self) -> None:
        self._control("kafka", "stop")

    def start_kafka(self) -> None:
        self._control("kafka", "start")

    def restart_postgres(self) -> None:
        self._control("postgres", "stop")
        self._control("postgres", "start")

    def _control(self, what: str, action: str) -> None:
        if self.kind == "local":
            subprocess.run(["bash", str(LOCAL_SCRIPTS / f"{what}.sh"), action], check=True, timeout=300)
            return
        container = self._containers[0 if what == "kafka" else 1].get_wrapped_container()
        {"stop": container.stop, "start": container.start}[action]()

    def close(self) -> None:
        for container in self._containers:
            container.stop()


def start_infra() -> Infra:
    """ALIGNED_TEST_INFRA: unset (decide), "local" (deploy/local processes) or "external" (already running)."""
    if os.environ.get("ALIGNED_TEST_INFRA") != "external" and docker_engine_answers():
        return _start_containers()
    if os.environ.get("ALIGNED_TEST_INFRA") != "external":
        subprocess.run(["bash", str(LOCAL_SCRIPTS / "infra.sh"), "up"], check=True, timeout=1200)
    # The servers infra.sh started: on ALIGNED_PG_PORT / ALIGNED_KAFKA_PORT when those are set
    # (a worktree's .wtenv), so a second checkout's tests never use the first one's broker
    # (whose consumers, in the same groups, would take its events) or database.
    pg_port = os.environ.get("ALIGNED_PG_PORT", "15432")
    kafka_port = os.environ.get("ALIGNED_KAFKA_PORT", "19092")
    return Infra(
        database_url=os.environ.get(
            "ALIGNED_DATABASE_URL", f"postgresql://aligned:aligned@127.0.0.1:{pg_port}/aligned"
        ),
        kafka_bootstrap=os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", f"127.0.0.1:{kafka_port}"),
        kind="local",
    )


def _start_containers() -> Infra:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    postgres = PostgresContainer("postgres:16", username="aligned", password="aligned", dbname="aligned")
    kafka.start()
    postgres.start()
    url = postgres.get_connection_url().replace("postgresql+psycopg2://", "postgresql://")
    store = _start_s3_container()
    mail = _start_mail_container()
    return Infra(
        database_url=url,
        kafka_bootstrap=kafka.get_bootstrap_server(),
        kind="testcontainers",
        object_store=store[0],
        mail=mail[0],
        _containers=[kafka, postgres, store[1], mail[1]],
    )


def _start_s3_container():
    """s3proxy's own image on its filesystem backend, the same server deploy/local runs."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    location = ObjectStoreLocation("", "aligned-media", "aligned", "aligned-local-secret")
    container = (
        DockerContainer("andrewgaul/s3proxy:s3proxy-2.6.0")
        .with_env("S3PROXY_AUTHORIZATION", "aws-v2-or-v4")
        .with_env("S3PROXY_IDENTITY", location.access_key_id)
        .with_env("S3PROXY_CREDENTIAL", location.secret_access_key)
        .with_env("JCLOUDS_PROVIDER", "filesystem")
        .with_exposed_ports(80)
    )
    container.start()
    wait_for_logs(container, "Started", timeout=60)
    endpoint = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(80)}"
    location = ObjectStoreLocation(
        endpoint, location.bucket, location.access_key_id, location.secret_access_key
    )
    import botocore.session  # comes with publishing's aiobotocore

    botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=location.access_key_id,
        aws_secret_access_key=location.secret_access_key,
        region_name="us-east-1",
    ).create_bucket(Bucket=location.bucket)
    return location, container


def _start_mail_container():
    """Mailpit's own image, the same server deploy/local builds."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    container = (
        DockerContainer("axllent/mailpit:v1.33.1")
        .with_env("MP_MAX_MESSAGES", "20000")
        .with_exposed_ports(1025, 8025)
    )
    container.start()
    wait_for_logs(container, "accessible via", timeout=60)
    host = container.get_container_host_ip()
    server = MailServer(
        host, int(container.get_exposed_port(1025)), f"http://{host}:{container.get_exposed_port(8025)}"
    )
    return server, container
