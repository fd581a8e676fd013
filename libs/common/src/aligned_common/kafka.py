"""Kafka plumbing shared by relay, inbox and tools: connection options, producers, topics.

Connection security comes from the environment, as the Kubernetes manifests set it for every
pod: ALIGNED_KAFKA_SECURITY_PROTOCOL (PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL),
ALIGNED_KAFKA_SASL_MECHANISM (SCRAM-SHA-512 by default), ALIGNED_KAFKA_SASL_USERNAME,
ALIGNED_KAFKA_SASL_PASSWORD and ALIGNED_KAFKA_SSL_CAFILE. Locally it is plaintext.
"""

from __future__ import annotations

import logging
import os

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from aligned_common.events.registry import ALL_TOPICS, dlq_of

log = logging.getLogger(__name__)


def connection_options() -> dict:
    """aiokafka keyword arguments for the configured security protocol."""
    protocol = os.environ.get("ALIGNED_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options: dict = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=os.environ.get("ALIGNED_KAFKA_SSL_CAFILE"))
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = os.environ.get("ALIGNED_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        options["sasl_plain_username"] = os.environ.get("ALIGNED_KAFKA_SASL_USERNAME")
        options["sasl_plain_password"] = os.environ.get("ALIGNED_KAFKA_SASL_PASSWORD")
    return options


def broker_security() -> BaseSecurity | None:
    """The same options as a FastStream security object, for the KafkaBroker."""
    options = connection_options()
    ssl_context = options.get("ssl_context")
    mechanism = options.get("sasl_mechanism")
    if mechanism is None:
        return BaseSecurity(ssl_context=ssl_context) if ssl_context else None
    kinds = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}
    return kinds[mechanism](
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=ssl_context,
        use_ssl=options["security_protocol"] == "SASL_SSL",
    )


def reliable_producer(bootstrap: str, **overrides) -> AIOKafkaProducer:
    """acks=all + idempotence: a retried send never duplicates or reorders within a session."""
    options = dict(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
        **connection_options(),
    )
    options.update(overrides)
    return AIOKafkaProducer(**options)


async def ensure_topics(
    bootstrap: str,
    topics: tuple[str, ...] | list[str] = ALL_TOPICS,
    *,
    partitions: int = 3,
    replication: int = 1,
    with_dlq: bool = True,
) -> None:
    """Create the event topics and their DLQs if absent (production uses Strimzi KafkaTopics)."""
    wanted = list(topics) + ([dlq_of(t) for t in topics] if with_dlq else [])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **connection_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, replication) for t in wanted if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created them first
            log.info("created topics", extra={"ctx_topics": [t.name for t in missing]})
    finally:
        await admin.close()
