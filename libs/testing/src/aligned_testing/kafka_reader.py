"""Test helper: read what really reached a Kafka topic, from a known point on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from aligned_common.kafka import ensure_topics


class TopicReader:
    """Remembers a topic's end offsets at creation, then reads everything after them."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._consumer: AIOKafkaConsumer | None = None
        self.records: list[ConsumerRecord] = []

    async def __aenter__(self) -> TopicReader:
        await ensure_topics(self._bootstrap, [self._topic], with_dlq=False)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self._topic)
        for _ in range(50):
            if partitions:
                break
            await self._consumer._client.force_metadata_update()  # no public call refreshes the cache
            partitions = self._consumer.partitions_for_topic(self._topic)
            await asyncio.sleep(0.1)
        if not partitions:
            raise RuntimeError(f"topic {self._topic} has no partitions")
        assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(assigned)
        for tp, offset in (await self._consumer.end_offsets(assigned)).items():
            self._consumer.seek(tp, offset)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def read_until(
        self, done: Callable[[list[ConsumerRecord]], bool], timeout_s: float = 120, settle_s: float = 1.0
    ) -> list[ConsumerRecord]:
        """Read until `done(records)` holds, then `settle_s` longer so duplicates would show."""
        deadline = time.monotonic() + timeout_s
        settled_at: float | None = None
        if self._consumer is None:
            raise RuntimeError("read inside `async with TopicReader(...)`")
        while time.monotonic() < deadline:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                self.records.extend(records)
            if settled_at is None and done(self.records):
                settled_at = time.monotonic() + settle_s
            if settled_at is not None and time.monotonic() >= settled_at:
                break
        return self.records
