"""Reads every domain topic into the gateway: live-stream hub, cache invalidation.

Each replica reads ALL partitions itself (manual assignment, no consumer group and no
committed offsets): every replica needs every event for its own streams and caches, which
a shared group would split between them. On start it seeks back by the retention window
(offsets_for_times), so a restarted replica can still resume streams within it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from aligned_common.envelope import EventEnvelope
from aligned_common.events.registry import ALL_TOPICS
from aligned_common.kafka import connection_options

log = logging.getLogger(__name__)

EnvelopeHandler = Callable[[EventEnvelope], None]


async def _assign(consumer: AIOKafkaConsumer, topics: tuple[str, ...], since_s: float) -> None:
    partitions = []
    for topic in topics:
        for _ in range(50):
            found = consumer.partitions_for_topic(topic)
            if found:
                partitions += [TopicPartition(topic, p) for p in sorted(found)]
                break
            await consumer._client.force_metadata_update()  # no public call refreshes the cache
            await asyncio.sleep(0.1)
    consumer.assign(partitions)
    starts = await consumer.offsets_for_times({tp: int((time.time() - since_s) * 1000) for tp in partitions})
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        found = starts.get(tp)
        consumer.seek(tp, found.offset if found is not None else ends[tp])


async def run_feed(
    bootstrap: str,
    since_s: float,
    handle: EnvelopeHandler,
    ready: asyncio.Event,
    topics: tuple[str, ...] = ALL_TOPICS,
) -> None:
    """Forever: consume, parse, hand each envelope over; reconnect after a broker outage."""
    while True:
        # The same connection options (SASL_SSL in Kubernetes) as every other Kafka client.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, **connection_options()
        )
        try:
            await consumer.start()
            await _assign(consumer, topics, since_s)
            ready.set()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for records in batches.values():
                    for record in records:
                        _deliver(record.value, handle)
                # The window to replay after a reconnect is only what we have not seen.
                since_s = 60.0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live event feed failed; reconnecting", extra={"ctx_error": repr(exc)})
            await asyncio.sleep(1.0)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


def _deliver(value: bytes, handle: EnvelopeHandler) -> None:
    try:
        envelope = EventEnvelope.from_bytes(value)
    except (ValidationError, ValueError):
        return  # malformed bytes are the owning service's DLQ's business, not the stream's
    try:
        handle(envelope)
    except Exception:
        log.exception("live event handler failed", extra={"ctx_event_type": envelope.type})
