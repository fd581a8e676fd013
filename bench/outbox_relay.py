"""outbox_relay: committed outbox rows -> acknowledged Kafka writes, against a raw producer.

Baseline: a bare aiokafka producer (same acks=all + idempotence) sending the same
messages to the same topic in the same run. Also the relay's lag (commit to Kafka
ack, from the rows' own timestamps) at a steady 2,000 events/s.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import asyncpg

from aligned_common.db import notify_channel
from aligned_common.envelope import new_event
from aligned_common.events.publishing import JobUpdated
from aligned_common.kafka import ensure_topics, reliable_producer
from aligned_common.migrations import migrate
from aligned_common.outbox import OutboxRelay
from bench.report import BenchResult

TOPIC = "aligned.bench.events"
SCHEMA = "bench_outbox"
N = 50_000


def _messages(n: int) -> list[tuple[bytes, bytes]]:
    brands = [uuid.uuid4() for _ in range(50)]
    tenant = uuid.uuid4()
    job = uuid.uuid4()
    out = []
    for i in range(n):
        brand = brands[i % len(brands)]
        event = new_event(
            JobUpdated(job_id=job, status="scheduled", content=f"post {i}"), brand_id=brand, tenant_id=tenant
        )
        out.append((str(brand).encode(), event.to_bytes()))
    return out


async def _raw_producer_rate(bootstrap: str, messages) -> float:
    producer = reliable_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(TOPIC, value=v, key=k) for k, v in messages]
        await asyncio.gather(*futures)
        return len(messages) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _insert_rows(pool: asyncpg.Pool, messages, notify: bool = True) -> None:
    """Like a unit of work: rows and the NOTIFY that wakes the relay commit together."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            f"INSERT INTO {SCHEMA}.outbox (event_id, topic, key, event_type, payload)"
            " VALUES ($1, $2, $3, 'publishing.job_updated', $4)",
            [(uuid.uuid4(), TOPIC, k.decode(), v) for k, v in messages],
        )
        if notify:
            await conn.execute("SELECT pg_notify($1, '')", notify_channel(SCHEMA))


async def _relay_rate(pool, bootstrap, messages) -> float:
    """From the commit of the rows to the last Kafka ack, with the relay already running
    (the baseline's producer is started before its clock too)."""
    await pool.execute(f"TRUNCATE {SCHEMA}.outbox")
    relay = OutboxRelay(pool, SCHEMA, bootstrap)
    await relay.start()
    await _insert_rows(pool, messages[:100])  # warm: producer connected, listener attached
    while relay.published < 100:
        await asyncio.sleep(0.005)
    await _insert_rows(pool, messages, notify=False)
    started = time.perf_counter()
    await pool.execute("SELECT pg_notify($1, '')", notify_channel(SCHEMA))
    while relay.published < 100 + len(messages):
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    await relay.stop()
    return len(messages) / elapsed


async def _steady_lag(pool, bootstrap, rate: int = 2000, seconds: int = 10) -> dict[str, float]:
    await pool.execute(f"TRUNCATE {SCHEMA}.outbox")
    relay = OutboxRelay(pool, SCHEMA, bootstrap)
    await relay.start()
    messages = _messages(rate * seconds)
    tick = 0.01
    per_tick = int(rate * tick)
    started = time.perf_counter()
    for i in range(0, len(messages), per_tick):
        await _insert_rows(pool, messages[i : i + per_tick])
        # Pace by wall clock so a slow insert does not lower the offered rate.
        delay = started + (i // per_tick + 1) * tick - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    while relay.published < len(messages):
        await asyncio.sleep(0.05)
    await relay.stop()
    row = await pool.fetchrow(
        f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - created_at)) * 1000 AS p50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM published_at - created_at)) * 1000 AS p99
              FROM {SCHEMA}.outbox"""
    )
    return {"lag_p50_ms": float(row["p50"]), "lag_p99_ms": float(row["p99"]), "offered_rate": float(rate)}


async def run(database_url: str, bootstrap: str) -> BenchResult:
    await ensure_topics(bootstrap, [TOPIC], with_dlq=False)
    await migrate(database_url, SCHEMA, None)
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=8)
    try:
        messages = _messages(N)
        await _raw_producer_rate(bootstrap, messages[:2000])  # warm up connections and metadata
        # Alternate the two, three times each, and keep the medians: a shared 2-core
        # machine is noisy and a single pair of runs can be off by 2x either way.
        raw_runs, relay_runs = [], []
        for _ in range(3):
            raw_runs.append(await _raw_producer_rate(bootstrap, messages))
            relay_runs.append(await _relay_rate(pool, bootstrap, messages))
        raw, relay = statistics.median(raw_runs), statistics.median(relay_runs)
        lag = await _steady_lag(pool, bootstrap)
    finally:
        await pool.close()
    ratio = relay / raw
    return BenchResult(
        name="outbox_relay",
        unit="events/s",
        measured={"events_per_s": relay, **lag},
        baseline={"raw_producer_events_per_s": raw},
        ratio=ratio,
        target=">= 0.6",
        passed=ratio >= 0.6,
    )
