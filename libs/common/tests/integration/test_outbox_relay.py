"""Events written in transactions reach Kafka exactly once and in order per brand."""

import asyncio
import uuid
from collections import defaultdict

import pytest

from aligned_common.db import UnitOfWork, create_pool
from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import JobUpdated
from aligned_common.migrations import migrate
from aligned_common.outbox import OutboxRelay
from aligned_testing.kafka_reader import TopicReader

pytestmark = pytest.mark.integration

# The relay tests write 30,000 events; on their own topic they do not slow down every later
# test whose new consumer group reads the shared topics from the start.
TOPIC = "aligned.relaytest.events"
TOTAL = 10_000
TENANT = uuid.uuid4()


async def write_events(pool, schema, brands, total, per_tx=100, pause_s=0.0):
    """Each event's content is its sequence number within its brand."""
    counters = defaultdict(int)
    job = uuid.uuid4()
    for start in range(0, total, per_tx):
        async with UnitOfWork(pool, schema) as uow:
            for i in range(start, min(start + per_tx, total)):
                brand = brands[i % len(brands)]
                await uow.emit(
                    JobUpdated(job_id=job, status="test", content=str(counters[brand])),
                    brand_id=brand,
                    tenant_id=TENANT,
                )
                counters[brand] += 1
        if pause_s:
            await asyncio.sleep(pause_s)
    return dict(counters)


def assert_exactly_once_in_order(records, brands, total):
    mine = {str(b) for b in brands}
    seen: dict[str, list[int]] = defaultdict(list)
    ids = []
    for record in records:
        if record.key.decode() not in mine:
            continue
        envelope = EventEnvelope.from_bytes(record.value)
        ids.append(envelope.id)
        seen[record.key.decode()].append(int(envelope.data["content"]))
    assert len(ids) == total, f"expected {total} events, got {len(ids)}"
    assert len(set(ids)) == total, f"{total - len(set(ids))} duplicates"
    for brand, sequence in seen.items():
        assert sequence == sorted(sequence), f"brand {brand} out of order"
        assert sequence == list(range(len(sequence)))


def count_mine(brands):
    mine = {str(b).encode() for b in brands}
    return lambda records: sum(1 for r in records if r.key in mine) >= TOTAL


@pytest.fixture
def brands():
    return [uuid.uuid4() for _ in range(20)]


@pytest.fixture
async def outbox_schema(infra, scratch_schema, topics, monkeypatch):
    monkeypatch.setattr("aligned_common.db.topic_of", lambda _event_type: TOPIC)
    await migrate(infra.database_url, scratch_schema, None)
    return scratch_schema


async def test_ten_thousand_events_reach_kafka_once_and_in_order(infra, pg_pool, outbox_schema, brands):
    relay = OutboxRelay(pg_pool, outbox_schema, infra.kafka_bootstrap)
    async with TopicReader(infra.kafka_bootstrap, TOPIC) as reader:
        await relay.start()
        try:
            await write_events(pg_pool, outbox_schema, brands, TOTAL)
            records = await reader.read_until(count_mine(brands))
        finally:
            await relay.stop()
    assert_exactly_once_in_order(records, brands, TOTAL)
    assert (
        await pg_pool.fetchval(f'SELECT count(*) FROM "{outbox_schema}".outbox WHERE published_at IS NULL')
        == 0
    )


async def test_two_relays_at_once_publish_each_row_once_in_order(infra, pg_pool, outbox_schema, brands):
    relays = [OutboxRelay(pg_pool, outbox_schema, infra.kafka_bootstrap, batch_size=200) for _ in range(2)]
    async with TopicReader(infra.kafka_bootstrap, TOPIC) as reader:
        for relay in relays:
            await relay.start()
        try:
            await write_events(pg_pool, outbox_schema, brands, TOTAL, pause_s=0.005)
            records = await reader.read_until(count_mine(brands))
        finally:
            for relay in relays:
                await relay.stop()
    assert_exactly_once_in_order(records, brands, TOTAL)
    assert all(r.published > 0 for r in relays), [r.published for r in relays]


async def test_a_broker_outage_mid_run_loses_and_duplicates_nothing(infra, pg_pool, outbox_schema, brands):
    relay = OutboxRelay(pg_pool, outbox_schema, infra.kafka_bootstrap, max_backoff_s=2.0)
    writer = None
    await relay.start()
    try:
        writer = asyncio.create_task(write_events(pg_pool, outbox_schema, brands, TOTAL, pause_s=0.02))
        while relay.published < TOTAL // 4:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(infra.stop_kafka)
        published_at_stop = relay.published
        await asyncio.sleep(10)
        backlog = await pg_pool.fetchval(
            f'SELECT count(*) FROM "{outbox_schema}".outbox WHERE published_at IS NULL'
        )
        assert relay.published == published_at_stop, "nothing can be published while the broker is down"
        assert backlog > 0, "rows wait in the outbox during the outage"
        await asyncio.to_thread(infra.start_kafka)
        await writer
        deadline = asyncio.get_running_loop().time() + 120
        while await pg_pool.fetchval(
            f'SELECT count(*) FROM "{outbox_schema}".outbox WHERE published_at IS NULL'
        ):
            assert asyncio.get_running_loop().time() < deadline, "relay did not drain after the outage"
            await asyncio.sleep(0.2)
    finally:
        if writer and not writer.done():
            writer.cancel()
        await relay.stop()
    # Read back everything this test's brands wrote, from the start of the topic.
    records = await read_from_start(infra.kafka_bootstrap, brands)
    assert_exactly_once_in_order(records, brands, TOTAL)


async def read_from_start(bootstrap, brands):
    from aiokafka import AIOKafkaConsumer

    mine = {str(b).encode() for b in brands}
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=f"t-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        records, idle = [], 0
        while idle < 10:
            batch = await consumer.getmany(timeout_ms=300, max_records=10000)
            got = [r for rs in batch.values() for r in rs]
            idle = idle + 1 if not got else 0
            records += [r for r in got if r.key in mine]
        return records
    finally:
        await consumer.stop()


async def test_a_relay_round_is_five_round_trips_and_leaves_its_connection_clean(
    infra, outbox_schema, brands
):
    """BEGIN, the lanes (synchronous_commit off in the same statement), the rows, the mark,
    COMMIT: no SET LOCAL of its own and no pool reset after it (ADR 0026); an empty round is
    three. Nothing of the round's settings reaches the connection's next user."""
    queries: list[str] = []

    async def log_queries(conn):
        conn.add_query_logger(lambda record: queries.append(record.query))

    pool = await create_pool(infra.database_url, min_size=2, max_size=2, init=log_queries)  # listener + round
    relay = OutboxRelay(pool, outbox_schema, infra.kafka_bootstrap)
    try:
        await write_events(pool, outbox_schema, brands[:1], 3)
        await relay._ensure_connected()
        await asyncio.sleep(0)
        queries.clear()
        assert await relay._publish_round() == (3, False)
        await asyncio.sleep(0)  # the logger's callbacks are scheduled with call_soon
        # asyncpg looks a type up once per connection (typeinfo_tree, with JIT off around it).
        full = [
            q
            for q in queries
            if not any(s in q for s in ("typeinfo_tree", "current_setting('jit')", "set_config('jit'"))
        ]
        queries.clear()
        assert await relay._publish_round() == (0, False)
        await asyncio.sleep(0)
        empty = list(queries)
        async with pool.acquire() as conn:
            after = await conn.fetchval("SELECT current_setting('synchronous_commit')")
            left = await conn.fetchval(
                f'SELECT count(*) FROM "{outbox_schema}".outbox WHERE published_at IS NULL'
            )
    finally:
        await relay.stop()
        await pool.close()
    assert len(full) == 5, full
    assert full[0] == "BEGIN;" and "set_config('synchronous_commit', 'off', true)" in full[1]
    assert full[4] == "COMMIT;" and len(empty) == 3, empty
    assert after == "on" and left == 0
