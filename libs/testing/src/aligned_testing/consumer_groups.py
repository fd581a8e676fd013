"""Start a test service's new consumer group at the topics' current end.

A new consumer group reads a topic from the start; in a shared test broker that means
every other test's events. Committing the current end offsets first makes the service
skip that history while missing nothing produced after this call.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalGenerationError, UnknownMemberIdError

from aligned_common.kafka import ensure_topics


async def start_groups_at_end(bootstrap: str, group_id: str, topics: Iterable[str]) -> None:
    topics = list(topics)
    await ensure_topics(bootstrap, topics, with_dlq=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        try:
            await consumer.commit(dict(ends))
        except (UnknownMemberIdError, CommitFailedError, IllegalGenerationError):
            pass  # the group has live members (a second replica joining): it is positioned already
    finally:
        await consumer.stop()
