"""Dead letters: list, show and replay what the consumers gave up on.

The inbox (aligned_common.inbox) writes a failed message to `<topic>.dlq` with its original
bytes and key, and headers saying why (x-dlq-reason, x-dlq-error, x-dlq-handler), where it came
from (x-original-topic/partition/offset) and a unique x-dlq-id. Replay publishes the original
bytes, key and headers to the original topic. Consumers record event ids in processed_events,
so the consumers that had handled the event skip it and only the one that failed runs again.
The replay ledger (table dlq_replays) makes replaying the same dead letter a second time a
no-op, so "replay everything since 9:00" can be run again safely after a partial failure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka import TopicPartition

from aligned_common.admin.kafka_client import reader, writer
from aligned_common.db import UnitOfWork
from aligned_common.events.registry import ALL_TOPICS, dlq_of
from aligned_common.migrations import migrate

LEDGER_MIGRATIONS = Path(__file__).parent / "sql"
REPLAY_HEADER = "x-replayed-from-dlq"


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def dlq_id(self) -> str:
        # Messages dead-lettered before ids existed are named by their DLQ position.
        return self.headers.get("x-dlq-id") or f"{self.dlq_topic}:{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.headers.get("x-original-topic") or self.dlq_topic.removesuffix(".dlq")

    def envelope(self) -> dict | None:
        try:
            parsed = json.loads(self.value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def event_id(self) -> str | None:
        envelope = self.envelope()
        return str(envelope.get("id")) if envelope and envelope.get("id") else None

    @property
    def event_type(self) -> str | None:
        envelope = self.envelope()
        return envelope.get("type") if envelope else self.headers.get("event_type")

    def summary(self) -> dict:
        envelope = self.envelope() or {}
        return {
            "dlq_id": self.dlq_id,
            "dead_lettered_at": self.headers.get("x-dlq-time") or self.timestamp.isoformat(),
            "reason": self.headers.get("x-dlq-reason"),
            "handler": self.headers.get("x-dlq-handler"),
            "consumer_group": self.headers.get("x-dlq-consumer-group"),
            "original": f"{self.original_topic}:{self.headers.get('x-original-partition')}@{self.headers.get('x-original-offset')}",
            "event_id": self.event_id,
            "event_type": self.event_type,
            "brand_id": envelope.get("brand_id"),
            "subject": envelope.get("subject"),
            "error": (self.headers.get("x-dlq-error") or "")[:300],
        }

    def detail(self) -> dict:
        envelope = self.envelope()
        return {
            **self.summary(),
            "error": self.headers.get("x-dlq-error"),
            "dlq_position": f"{self.dlq_topic}:{self.partition}@{self.offset}",
            "headers": self.headers,
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "envelope": envelope,
            "raw": None if envelope is not None else self.value.decode(errors="replace")[:4000],
        }

    def replay_headers(self) -> list[tuple[str, bytes]]:
        kept = {k: v for k, v in self.headers.items() if not k.startswith(("x-dlq-", "x-original-"))}
        kept[REPLAY_HEADER] = self.dlq_id
        return [(k, v.encode()) for k, v in kept.items()]


def dlq_topics(topics: list[str] | None = None) -> list[str]:
    """DLQ names for the given event topics or DLQs (default: every event topic's)."""
    chosen = topics or list(ALL_TOPICS)
    return [t if t.endswith(".dlq") else dlq_of(t) for t in chosen]


async def read_dead_letters(
    bootstrap: str, topics: list[str], since: datetime | None = None, read_timeout_s: float = 120.0
) -> list[DeadLetter]:
    """Everything in the DLQs (from `since` on), oldest first, up to their current ends."""
    consumer = reader(bootstrap)
    try:
        await consumer.start()  # inside: a broker that is down still gets the consumer closed
        partitions = []
        for topic in topics:
            for p in sorted(await _partitions(consumer, topic)):
                partitions.append(TopicPartition(topic, p))
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await _start_offsets(consumer, partitions, since)
        remaining = {tp for tp in partitions if starts[tp] < ends[tp]}
        for tp in partitions:
            consumer.seek(tp, starts[tp])
        found: list[DeadLetter] = []
        deadline = time.monotonic() + read_timeout_s
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=2000)
            for tp, records in batch.items():
                found.extend(_dead_letter(r) for r in records if r.offset < ends[tp])
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        if remaining:
            raise TimeoutError(
                f"could not read {sorted(str(tp) for tp in remaining)} to their end in {read_timeout_s:.0f}s"
            )
        return sorted(found, key=lambda d: (d.timestamp, d.dlq_topic, d.partition, d.offset))
    finally:
        await consumer.stop()


async def _partitions(consumer, topic: str) -> set[int]:
    partitions = consumer.partitions_for_topic(topic)
    if partitions is None:
        await consumer._client.force_metadata_update()  # no public call refreshes the cache
        partitions = consumer.partitions_for_topic(topic)
    return partitions or set()


async def _start_offsets(
    consumer, partitions: list[TopicPartition], since: datetime | None
) -> dict[TopicPartition, int]:
    beginnings = await consumer.beginning_offsets(partitions)
    if since is None:
        return beginnings
    by_time = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in partitions})
    ends = await consumer.end_offsets(partitions)
    return {tp: (by_time[tp].offset if by_time.get(tp) else ends[tp]) for tp in partitions}


def _dead_letter(record) -> DeadLetter:
    return DeadLetter(
        dlq_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key,
        value=record.value,
        headers={k: v.decode(errors="replace") for k, v in (record.headers or [])},
    )


async def find(bootstrap: str, dlq_id: str, topics: list[str]) -> DeadLetter | None:
    for letter in await read_dead_letters(bootstrap, topics):
        if letter.dlq_id == dlq_id:
            return letter
    return None


async def prepare_ledger(dsn: str, schema: str) -> None:
    await migrate(dsn, schema, LEDGER_MIGRATIONS)


@dataclass(frozen=True)
class ReplayOutcome:
    dlq_id: str
    replayed: bool  # False: it had been replayed before, nothing was sent
    original_topic: str
    event_id: str | None


async def replay(
    pool: asyncpg.Pool, ledger_schema: str, bootstrap: str, letters: list[DeadLetter], operator: str
) -> list[ReplayOutcome]:
    """Republish each dead letter once; a letter already in the ledger is skipped."""
    producer = writer(bootstrap)
    await producer.start()
    outcomes = []
    try:
        for letter in letters:
            outcomes.append(await _replay_one(pool, ledger_schema, producer, letter, operator))
    finally:
        await producer.stop()
    return outcomes


async def _replay_one(pool, ledger_schema: str, producer, letter: DeadLetter, operator: str) -> ReplayOutcome:
    # The ledger row and the send share a transaction: if the send fails nothing is recorded
    # and the replay can be run again; if the commit fails after the send, consumers dedupe.
    async with UnitOfWork(pool, ledger_schema, role="owner") as uow:  # operator tool: no brand scope
        first_time = await uow.conn.fetchval(
            """INSERT INTO dlq_replays (dlq_id, dlq_topic, original_topic, original_partition, original_offset,
                                        event_id, replayed_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dlq_id) DO NOTHING RETURNING true""",
            letter.dlq_id,
            letter.dlq_topic,
            letter.original_topic,
            int(letter.headers.get("x-original-partition", -1)),
            int(letter.headers.get("x-original-offset", -1)),
            letter.event_id,
            operator,
        )
        if first_time:
            await producer.send_and_wait(
                letter.original_topic, letter.value, key=letter.key, headers=letter.replay_headers()
            )
    return ReplayOutcome(letter.dlq_id, bool(first_time), letter.original_topic, letter.event_id)
