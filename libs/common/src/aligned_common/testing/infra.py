"""Where the tests' real Kafka and PostgreSQL come from.

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
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[5]
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
    return Infra(
        database_url=os.environ.get("ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned"),
        kafka_bootstrap=os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
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
    return Infra(database_url=url, kafka_bootstrap=kafka.get_bootstrap_server(), kind="testcontainers", _containers=[kafka, postgres])
