"""aligned-admin dlq: a dead letter replayed after the fix is handled once, however often it is replayed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from aligned_common.envelope import new_event
from aligned_common.events.approval import Approved
from aligned_common.inbox import ConsumerSettings, EventRouter, InboxConsumer
from aligned_common.migrations import migrate
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually

from .conftest import json_of

pytestmark = pytest.mark.integration

TOPIC = "aligned.approval.events"
TENANT = uuid.uuid4()


@pytest.fixture
async def consumer(infra, pg_pool, scratch_schema, topics, tmp_path):
    """A pretend service counting approvals; its handler is 'broken' for the jobs in `broken`."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_counts.sql").write_text(
        "CREATE TABLE approvals_seen (job_id uuid PRIMARY KEY, brand_id uuid NOT NULL, times int NOT NULL);"
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    router = EventRouter(service=scratch_schema)
    broken: set[uuid.UUID] = set()

    @router.on(Approved, name="count_approval")
    async def count_approval(uow, envelope, data):
        if data.job_id in broken:
            raise ValueError(f"bug while handling job {data.job_id}")
        await uow.conn.execute(
            """INSERT INTO approvals_seen (job_id, brand_id, times) VALUES ($1, $2, 1)
               ON CONFLICT (job_id) DO UPDATE SET times = approvals_seen.times + 1""",
            data.job_id,
            envelope.brand_id,
        )

    broker = KafkaBroker(infra.kafka_bootstrap)
    consumer = InboxConsumer(
        router,
        pg_pool,
        scratch_schema,
        broker,
        ConsumerSettings(max_retries=1, retry_base_s=0.01),
        bootstrap=infra.kafka_bootstrap,
    )
    await broker.start()
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    yield type("Consumer", (), {"schema": scratch_schema, "broken": broken, "producer": producer})
    await producer.stop()
    await consumer.stop()
    await broker.stop()


def approved(brand: uuid.UUID):
    return new_event(
        Approved(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=1, decided_by="client"),
        brand_id=brand,
        tenant_id=TENANT,
    )


async def dead_letter(consumer, infra, brand, events) -> list[str]:
    """Sends the events while the handler is broken; returns their DLQ ids once all are dead-lettered."""
    async with TopicReader(infra.kafka_bootstrap, f"{TOPIC}.dlq") as dlq:
        for event in events:
            consumer.broken.add(event.payload().job_id)
            await consumer.producer.send_and_wait(TOPIC, event.to_bytes(), key=str(brand).encode())
        wanted = {str(e.id) for e in events}

        def ids_by_event(records):
            return {
                r.value: dict(r.headers)["x-dlq-id"].decode() for r in records if r.key == str(brand).encode()
            }

        records = await dlq.read_until(
            lambda rs: len(ids_by_event(rs)) >= len(wanted), timeout_s=60, settle_s=0.2
        )
    by_bytes = ids_by_event(records)
    return [by_bytes[e.to_bytes()] for e in events]


async def times_seen(pg_pool, schema, event) -> int | None:
    return await pg_pool.fetchval(
        f'SELECT times FROM "{schema}".approvals_seen WHERE job_id=$1', event.payload().job_id
    )


async def test_a_replayed_dead_letter_is_handled_once_after_the_fix_and_a_second_replay_is_a_no_op(
    consumer, infra, pg_pool, admin, ledger_schema
):
    brand = uuid.uuid4()
    event = approved(brand)
    [dlq_id] = await dead_letter(consumer, infra, brand, [event])
    assert await times_seen(pg_pool, consumer.schema, event) is None

    code, out = await admin("--json", "dlq", "show", dlq_id, "--topic", TOPIC)
    shown = json_of(out)
    assert code == 0 and shown["event_id"] == str(event.id) and shown["reason"] == "handler_failed"
    assert "bug while handling job" in shown["error"] and shown["envelope"]["brand_id"] == str(brand)

    consumer.broken.clear()  # the bug is fixed and deployed
    async with TopicReader(infra.kafka_bootstrap, TOPIC) as original:
        code, out = await admin(
            "--ledger-schema", ledger_schema, "dlq", "replay", "--id", dlq_id, "--topic", TOPIC
        )
        assert code == 0 and "replayed 1, already replayed before 0" in out
        await eventually(lambda: times_seen(pg_pool, consumer.schema, event), timeout_s=60)
        replayed = await original.read_until(
            lambda rs: any(r.key == str(brand).encode() for r in rs), timeout_s=30, settle_s=0.2
        )
    [record] = [r for r in replayed if r.key == str(brand).encode()]
    assert record.value == event.to_bytes(), "the original bytes go back to the original topic"
    assert dict(record.headers)["x-replayed-from-dlq"].decode() == dlq_id
    assert not any(k.startswith("x-dlq-") for k, _ in record.headers)

    code, out = await admin(
        "--ledger-schema", ledger_schema, "dlq", "replay", "--id", dlq_id, "--topic", TOPIC
    )
    assert code == 0 and "replayed 0, already replayed before 1" in out
    marker = approved(brand)  # handled after anything a second replay could have sent
    await consumer.producer.send_and_wait(TOPIC, marker.to_bytes(), key=str(brand).encode())
    await eventually(lambda: times_seen(pg_pool, consumer.schema, marker), timeout_s=60)
    assert await times_seen(pg_pool, consumer.schema, event) == 1
    ledger = await pg_pool.fetchrow(f'SELECT * FROM "{ledger_schema}".dlq_replays WHERE dlq_id=$1', dlq_id)
    assert ledger["event_id"] == str(event.id) and ledger["replayed_by"] == "test-operator"


async def test_replay_since_a_time_sends_back_every_dead_letter_of_the_brand_once(
    consumer, infra, pg_pool, admin, ledger_schema
):
    brand = uuid.uuid4()
    events = [approved(brand), approved(brand)]
    before = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    dlq_ids = await dead_letter(consumer, infra, brand, events)

    code, out = await admin(
        "--json", "dlq", "list", "--topic", TOPIC, "--since", before, "--brand", str(brand)
    )
    listed = json_of(out)
    assert code == 0 and {d["dlq_id"] for d in listed} == set(dlq_ids)
    assert {d["event_id"] for d in listed} == {str(e.id) for e in events}

    consumer.broken.clear()
    for _ in range(2):  # an operator runs the same command twice
        code, out = await admin(
            "--ledger-schema",
            ledger_schema,
            "dlq",
            "replay",
            "--since",
            before,
            "--topic",
            TOPIC,
            "--brand",
            str(brand),
        )
        assert code == 0
    assert "replayed 0, already replayed before 2" in out
    for event in events:
        await eventually(lambda e=event: times_seen(pg_pool, consumer.schema, e), timeout_s=60)
    marker = approved(brand)
    await consumer.producer.send_and_wait(TOPIC, marker.to_bytes(), key=str(brand).encode())
    await eventually(lambda: times_seen(pg_pool, consumer.schema, marker), timeout_s=60)
    assert [await times_seen(pg_pool, consumer.schema, e) for e in events] == [1, 1]


async def test_a_dry_run_replays_nothing(consumer, infra, pg_pool, admin, ledger_schema):
    brand = uuid.uuid4()
    event = approved(brand)
    [dlq_id] = await dead_letter(consumer, infra, brand, [event])
    consumer.broken.clear()
    code, out = await admin(
        "--ledger-schema", ledger_schema, "dlq", "replay", "--id", dlq_id, "--topic", TOPIC, "--dry-run"
    )
    assert code == 0 and dlq_id in out
    marker = approved(brand)
    await consumer.producer.send_and_wait(TOPIC, marker.to_bytes(), key=str(brand).encode())
    await eventually(lambda: times_seen(pg_pool, consumer.schema, marker), timeout_s=60)
    assert await times_seen(pg_pool, consumer.schema, event) is None
