"""What really went through Kafka during a fault run: every event of the run's brands, every
dead letter, and whether each consumer group has read everything."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from aligned_common.events.registry import ALL_TOPICS, dlq_of

EVENT_TOPICS = list(ALL_TOPICS)
DLQ_TOPICS = [dlq_of(t) for t in ALL_TOPICS]


@dataclass
class Ledger:
    """The run's records, read back from the offsets the topics had when the run began."""

    events: list[dict] = field(default_factory=list)  # envelopes of the run's brands (duplicates kept)
    dead_letters: list[ConsumerRecord] = field(default_factory=list)

    def event_ids(self, brand_id: str | None = None) -> set[str]:
        return {e["id"] for e in self.events if brand_id is None or e["brand_id"] == brand_id}

    def redelivered(self) -> int:
        """Events that reached a topic more than once (the relay is at-least-once)."""
        return len(self.events) - len(self.event_ids())

    def by_type(self) -> Counter:
        unique = {e["id"]: e["type"] for e in self.events}
        return Counter(unique.values())


class KafkaLedger:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.start_offsets: dict[TopicPartition, int] = {}

    async def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        return consumer

    async def _partitions(self, topics: list[str]) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]

    async def mark_start(self) -> None:
        consumer = await self._consumer()
        try:
            partitions = await self._partitions(EVENT_TOPICS + DLQ_TOPICS)
            self.start_offsets = dict(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()

    async def end_offsets(self) -> dict[TopicPartition, int]:
        consumer = await self._consumer()
        try:
            return dict(await consumer.end_offsets(list(self.start_offsets)))
        finally:
            await consumer.stop()

    async def read(self, brand_ids: set[str]) -> Ledger:
        """Everything from the start marks to the current ends, filtered to the run's brands
        (dead letters by the brand in their envelope, when it can be read)."""
        ends = await self.end_offsets()
        ledger = Ledger()
        consumer = await self._consumer()
        try:
            wanted = {tp: end for tp, end in ends.items() if end > self.start_offsets[tp]}
            if not wanted:
                return ledger
            consumer.assign(list(wanted))
            for tp in wanted:
                consumer.seek(tp, self.start_offsets[tp])
            deadline = time.monotonic() + 120
            while wanted and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for tp, records in batch.items():
                    for record in records:
                        if record.offset < wanted.get(tp, -1):
                            self._keep(ledger, tp.topic, record, brand_ids)
                    if records and records[-1].offset + 1 >= wanted.get(tp, 0):
                        wanted.pop(tp, None)
        finally:
            await consumer.stop()
        return ledger

    @staticmethod
    def _keep(ledger: Ledger, topic: str, record: ConsumerRecord, brand_ids: set[str]) -> None:
        try:
            envelope = json.loads(record.value)
        except (TypeError, ValueError):
            envelope = {}
        if envelope.get("brand_id") not in brand_ids:
            return
        if topic.endswith(".dlq"):
            ledger.dead_letters.append(record)
        else:
            ledger.events.append(envelope)


async def groups_caught_up(
    bootstrap: str, groups: dict[str, list[str]], ends: dict[TopicPartition, int], timeout_s: float
) -> dict[str, int]:
    """Wait until every group has committed at least `ends` on each partition it reads; the
    messages it still owes per group (all zero when it returns normally)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            owed = {}
            for group, topics in groups.items():
                committed = await admin.list_consumer_group_offsets(group)
                owed[group] = sum(
                    max(0, end - (committed[tp].offset if tp in committed else 0))
                    for tp, end in ends.items()
                    if tp.topic in topics
                )
            if not any(owed.values()) or time.monotonic() >= deadline:
                return owed
            await asyncio.sleep(1)
    finally:
        await admin.close()
