"""Kafka plumbing shared by relay, inbox and tools: producers and topic creation."""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from aligned_common.events.registry import ALL_TOPICS, dlq_of

log = logging.getLogger(__name__)


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
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
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
