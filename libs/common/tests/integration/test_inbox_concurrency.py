"""Many messages at once on the real broker: the same key in order, different keys overlapping,
and a crash mid-flight losing nothing and applying nothing twice."""

import asyncio
import itertools
import time
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from aligned_common.envelope import new_event
from aligned_common.events.approval import Approved, Rejected
from aligned_common.inbox import ConsumerSettings, EventRouter, InboxConsumer
from aligned_common.metrics import CONSUMED
from aligned_common.migrations import migrate
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.polling import eventually

pytestmark = pytest.mark.integration

TOPIC = "aligned.approval.events"
TENANT = uuid.uuid4()


class PretendService:
    """Approved: counts per job (in its transaction) and logs when each handling ran.
    Rejected: the same, but sleeps OUTSIDE any transaction (transaction=False), as a platform call does."""

    def __init__(self, infra, pool, schema):
        self.infra, self.pool, self.schema = infra, pool, schema
        self.sleep_s: dict[uuid.UUID, float] = {}  # per job
        self.sleep_by_round: dict[int, float] = {}
        self.default_sleep_s = 0.0
        self.runs: list[tuple[str, uuid.UUID, int, float, float]] = []  # (kind, job, round, start, end)
        self.consumers: list[InboxConsumer] = []
        self.router = EventRouter(service=schema)

        @self.router.on(Approved, name="count_approval")
        async def count_approval(uow, envelope, data):
            started = time.monotonic()
            await asyncio.sleep(self.sleep_for(data))
            await uow.conn.execute(
                """INSERT INTO seen (job_id, round, times) VALUES ($1, $2, 1)
                   ON CONFLICT (job_id, round) DO UPDATE SET times = seen.times + 1""",
                data.job_id,
                data.round,
            )
            self.runs.append(("approved", data.job_id, data.round, started, time.monotonic()))

        @self.router.on(Rejected, name="count_outside", transaction=False)
        async def count_outside(entry, envelope, data):
            started = time.monotonic()
            await asyncio.sleep(self.sleep_for(data))
            async with entry.finish() as uow:
                await uow.conn.execute(
                    "INSERT INTO seen (job_id, round, times) VALUES ($1, $2, 1)", data.job_id, data.round
                )
            self.runs.append(("rejected", data.job_id, data.round, started, time.monotonic()))

    def sleep_for(self, data) -> float:
        return self.sleep_s.get(data.job_id, self.sleep_by_round.get(data.round, self.default_sleep_s))

    async def start_consumer(self, pool=None, **settings) -> InboxConsumer:
        broker = KafkaBroker(self.infra.kafka_bootstrap)
        await broker.start()
        consumer = InboxConsumer(
            self.router,
            pool or self.pool,
            self.schema,
            broker,
            ConsumerSettings(max_retries=1, retry_base_s=0.01, **settings),
            bootstrap=self.infra.kafka_bootstrap,
        )
        await consumer.start()
        self.consumers.append(consumer)
        return consumer

    async def stop_all(self):
        for consumer in self.consumers:
            await consumer.stop()
            await consumer.broker.stop()
        self.consumers.clear()

    async def rows(self):
        return await self.pool.fetch(f'SELECT job_id, round, times FROM "{self.schema}".seen ORDER BY at')


@pytest.fixture
async def service(infra, pg_pool, scratch_schema, topics, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_seen.sql").write_text(
        """CREATE TABLE seen (job_id uuid NOT NULL, round int NOT NULL, times int NOT NULL,
                              at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (job_id, round));"""
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    svc = PretendService(infra, pg_pool, scratch_schema)
    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{scratch_schema}", svc.router.topics())
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=5)
    await producer.start()
    svc.producer = producer
    yield svc
    await svc.stop_all()
    await producer.stop()


async def send(svc, brand, events):
    """One brand, so one partition: the consumer sees them in this order."""
    for event in events:
        await svc.producer.send(TOPIC, event.to_bytes(), key=str(brand).encode())
    await svc.producer.flush()


def decision(model, brand, job, round_):
    return new_event(
        model(approval_id=uuid.uuid4(), job_id=job, round=round_, decided_by="u"),
        brand_id=brand,
        tenant_id=TENANT,
        subject=str(job),
    )


async def wait_for_rows(svc, n, timeout_s=60):
    async def enough():
        rows = await svc.rows()
        return rows if len(rows) >= n else None

    return await eventually(enough, timeout_s=timeout_s, what=f"{n} rows")


async def test_messages_with_the_same_key_are_handled_one_after_another_in_order(service):
    await service.start_consumer()
    brand, job = uuid.uuid4(), uuid.uuid4()
    # Early rounds slow, later ones fast: run concurrently, they would finish out of order.
    service.sleep_by_round = {r: 0.3 if r <= 3 else 0.01 for r in range(1, 11)}
    other = uuid.uuid4()  # another key of the same brand, interleaved: it does not wait for `job`
    await send(service, brand, [decision(Approved, brand, other, 20)])
    await send(service, brand, [decision(Approved, brand, job, r) for r in range(1, 11)])
    rows = await wait_for_rows(service, 11)
    assert [row["round"] for row in rows if row["job_id"] == job] == list(range(1, 11))
    runs = sorted((r for r in service.runs if r[1] == job), key=lambda r: r[3])
    assert all(earlier[4] <= later[3] for earlier, later in itertools.pairwise(runs)), (
        "same key never overlaps"
    )


async def test_twenty_messages_of_different_keys_overlap(service):
    await service.start_consumer()
    brand = uuid.uuid4()
    service.default_sleep_s = 0.5
    started = time.monotonic()
    await send(service, brand, [decision(Approved, brand, uuid.uuid4(), 1) for _ in range(20)])
    await wait_for_rows(service, 20)
    elapsed = time.monotonic() - started
    assert elapsed < 5.0, f"20 x 0.5 s took {elapsed:.1f} s: one at a time would be 10 s"
    assert len(service.runs) == 20


async def test_a_handler_outside_a_transaction_holds_no_pooled_connection_while_it_waits(service, infra):
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    try:
        await service.start_consumer(pool=pool)
        brand = uuid.uuid4()
        service.default_sleep_s = 0.5
        started = time.monotonic()
        await send(service, brand, [decision(Rejected, brand, uuid.uuid4(), 1) for _ in range(20)])
        await wait_for_rows(service, 20)
        elapsed = time.monotonic() - started
        # Holding one of the 2 connections through each 0.5 s wait would take >= 5 s.
        assert elapsed < 4.0, f"took {elapsed:.1f} s"
    finally:
        await service.stop_all()
        await pool.close()


async def test_a_crash_mid_flight_loses_nothing_and_applies_nothing_twice(service):
    consumer = await service.start_consumer()
    brand = uuid.uuid4()
    jobs = [uuid.uuid4() for _ in range(30)]
    service.sleep_s = {
        jobs[0]: 30.0,
        jobs[1]: 30.0,
    }  # the lowest offsets stay in flight: the low-water mark waits
    service.default_sleep_s = 0.05
    await send(service, brand, [decision(Approved, brand, job, 1) for job in jobs])
    await wait_for_rows(service, 28)  # all but the two slow ones committed their work (not their offsets)
    await asyncio.sleep(0.5)  # a commit round passes: it may commit nothing beyond the slow ones
    assert consumer.in_flight == 2

    # The crash: in-flight work dies (its transactions roll back), no offset is committed, the member is gone.
    for tasks in list(consumer._tasks.values()):
        for task in tasks:
            task.cancel()
    consumer._loop.cancel()
    await asyncio.sleep(0.1)
    await consumer._consumer.stop()
    await consumer.broker.stop()
    service.consumers.clear()

    service.sleep_s = {}
    before = len(service.runs)
    duplicates = CONSUMED.labels(f"{service.schema}.count_approval", "approval.approved", "duplicate")
    duplicates_before = duplicates._value.get()
    await service.start_consumer()
    rows = await wait_for_rows(service, 30)
    await asyncio.sleep(1.0)  # redeliveries of the finished ones are handled (as duplicates) meanwhile
    rows = await service.rows()
    assert sorted(row["job_id"] for row in rows) == sorted(jobs), "nothing lost"
    assert all(row["times"] == 1 for row in rows), "nothing applied twice"
    # The restart re-ran exactly the two that were in flight; the other 28 came again (they were
    # above the low-water mark) and the inbox recognised them.
    rerun = [r[1] for r in service.runs[before:]]
    assert sorted(rerun) == sorted(jobs[:2])
    assert duplicates._value.get() - duplicates_before == 28
    recorded = await service.pool.fetchval(f'SELECT count(*) FROM "{service.schema}".processed_events')
    assert recorded == 30


@pytest.mark.parametrize("drain_timeout_s", [30.0, 0.3], ids=["drained", "cancelled"])
async def test_a_rebalance_mid_flight_hands_partitions_over_without_loss_or_double_effects(
    service, drain_timeout_s
):
    await service.start_consumer(drain_timeout_s=drain_timeout_s)
    brands = [uuid.uuid4() for _ in range(12)]  # spread over the topic's partitions
    jobs = {brand: [uuid.uuid4() for _ in range(3)] for brand in brands}
    service.default_sleep_s = 1.5
    for brand in brands:
        await send(service, brand, [decision(Approved, brand, job, 1) for job in jobs[brand]])
    await asyncio.sleep(0.7)  # in flight now
    await service.start_consumer(drain_timeout_s=drain_timeout_s)  # a second member: the group rebalances
    rows = await wait_for_rows(service, 36, timeout_s=90)
    await asyncio.sleep(1.0)
    rows = await service.rows()
    assert sorted(row["job_id"] for row in rows) == sorted(j for js in jobs.values() for j in js)
    assert all(row["times"] == 1 for row in rows)


async def test_a_recording_consumer_commits_many_messages_in_one_transaction_and_isolates_a_bad_one(
    infra, pg_pool, scratch_schema, topics, tmp_path
):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_log.sql").write_text(
        "CREATE TABLE log (event_id uuid PRIMARY KEY, job_id uuid NOT NULL);"
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    router = EventRouter(service=scratch_schema)
    bad: set[uuid.UUID] = set()

    @router.on(Approved, name="record", batch=True)
    async def record(uow, envelope, data):
        if data.job_id in bad:
            raise ValueError("this one cannot be recorded")
        await uow.conn.execute("INSERT INTO log VALUES ($1, $2)", envelope.id, data.job_id)

    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{scratch_schema}", router.topics())
    broker = KafkaBroker(infra.kafka_bootstrap)
    await broker.start()
    consumer = InboxConsumer(
        router,
        pg_pool,
        scratch_schema,
        broker,
        ConsumerSettings(max_retries=1, retry_base_s=0.01),
        bootstrap=infra.kafka_bootstrap,
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        brands = [uuid.uuid4(), uuid.uuid4()]
        events = [decision(Approved, brands[i % 2], uuid.uuid4(), 1) for i in range(200)]
        bad.add(events[57].payload().job_id)
        for event in events:  # sent before the consumer starts: they arrive together
            await producer.send(TOPIC, event.to_bytes(), key=str(event.brand_id).encode())
        await producer.flush()
        await consumer.start()

        async def logged():
            return await pg_pool.fetchval(f'SELECT count(*) FROM "{scratch_schema}".log')

        deadline = time.monotonic() + 60
        while await logged() < 199:
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        assert await logged() == 199, "every good message recorded once, the bad one not at all"
        recorded = await pg_pool.fetch(
            f'SELECT event_id, processed_at FROM "{scratch_schema}".processed_events'
        )
        assert len(recorded) == 199 and events[57].id not in {r["event_id"] for r in recorded}
        transactions = len({r["processed_at"] for r in recorded})  # now() is the transaction's start
        # One at a time would be 199; the bad message's batch is re-run message by message.
        assert transactions <= 100, f"199 messages took {transactions} transactions"
    finally:
        await producer.stop()
        await consumer.stop()
        await broker.stop()
