"""Consumers are idempotent, retry a failing handler, and dead-letter what they cannot handle."""

import uuid

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from aligned_common.envelope import new_event
from aligned_common.events.approval import Approved, Rejected
from aligned_common.inbox import ConsumerSettings, EventRouter, InboxConsumer
from aligned_common.migrations import migrate
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually

pytestmark = pytest.mark.integration

TOPIC = "aligned.approval.events"
TENANT = uuid.uuid4()


@pytest.fixture
async def service(infra, pg_pool, scratch_schema, topics, tmp_path):
    """A pretend service: counts approvals per job; fails on purpose for rejected jobs."""
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_counts.sql").write_text(
        "CREATE TABLE approvals_seen (job_id uuid PRIMARY KEY, brand_id uuid NOT NULL, times int NOT NULL);"
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    router = EventRouter(service=scratch_schema)
    failures: list[uuid.UUID] = []

    @router.on(Approved, name="count_approval")
    async def count_approval(uow, envelope, data):
        await uow.conn.execute(
            """INSERT INTO approvals_seen (job_id, brand_id, times) VALUES ($1, $2, 1)
               ON CONFLICT (job_id) DO UPDATE SET times = approvals_seen.times + 1""",
            data.job_id,
            envelope.brand_id,
        )

    @router.on(Rejected, name="always_fails")
    async def always_fails(uow, envelope, data):
        failures.append(data.job_id)
        await uow.conn.execute(
            "INSERT INTO approvals_seen VALUES ($1, $2, -1)", data.job_id, envelope.brand_id
        )
        raise ValueError(f"cannot handle job {data.job_id}")

    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{scratch_schema}", router.topics())
    broker = KafkaBroker(infra.kafka_bootstrap)
    consumer = InboxConsumer(
        router,
        pg_pool,
        scratch_schema,
        broker,
        ConsumerSettings(max_retries=2, retry_base_s=0.05),
        bootstrap=infra.kafka_bootstrap,
    )
    await broker.start()
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    yield type("Svc", (), {"schema": scratch_schema, "producer": producer, "failures": failures})
    await producer.stop()
    await consumer.stop()
    await broker.stop()


def approved(brand):
    return new_event(
        Approved(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=1, decided_by="u"),
        brand_id=brand,
        tenant_id=TENANT,
    )


async def test_the_same_event_delivered_three_times_changes_state_once(service, pg_pool):
    brand = uuid.uuid4()
    event, marker = approved(brand), approved(brand)
    for _ in range(3):
        await service.producer.send_and_wait(TOPIC, event.to_bytes(), key=str(brand).encode())
    await service.producer.send_and_wait(TOPIC, marker.to_bytes(), key=str(brand).encode())

    async def marker_seen():
        return (
            await pg_pool.fetchval(
                f'SELECT times FROM "{service.schema}".approvals_seen WHERE job_id=$1',
                marker.payload().job_id,
            )
            is not None
        )

    await eventually(marker_seen, timeout_s=60, what="the marker event handled")
    times = await pg_pool.fetchval(
        f'SELECT times FROM "{service.schema}".approvals_seen WHERE job_id=$1', event.payload().job_id
    )
    assert times == 1
    inbox_rows = await pg_pool.fetchval(
        f'SELECT count(*) FROM "{service.schema}".processed_events WHERE event_id=$1', event.id
    )
    assert inbox_rows == 1


async def test_poison_messages_go_to_the_dlq_with_a_reason_and_the_next_is_handled(service, pg_pool, infra):
    brand = uuid.uuid4()
    key = str(brand).encode()
    unknown_type = new_event(
        Approved(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=1, decided_by="u"),
        brand_id=brand,
        tenant_id=TENANT,
    ).model_copy(update={"type": "approval.teleported"})
    failing = new_event(
        Rejected(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=1, decided_by="u"),
        brand_id=brand,
        tenant_id=TENANT,
    )
    after = approved(brand)

    async with TopicReader(infra.kafka_bootstrap, f"{TOPIC}.dlq") as dlq:
        await service.producer.send_and_wait(TOPIC, b"\x00not json at all", key=key)
        await service.producer.send_and_wait(TOPIC, unknown_type.to_bytes(), key=key)
        failing_meta = await service.producer.send_and_wait(TOPIC, failing.to_bytes(), key=key)
        await service.producer.send_and_wait(TOPIC, after.to_bytes(), key=key)

        async def after_handled():
            return (
                await pg_pool.fetchval(
                    f'SELECT times FROM "{service.schema}".approvals_seen WHERE job_id=$1',
                    after.payload().job_id,
                )
                == 1
            )

        await eventually(after_handled, timeout_s=60, what="the later event handled")
        records = await dlq.read_until(lambda rs: sum(1 for r in rs if r.key == key) >= 3, timeout_s=30)

    # Delivery is at least once: a consumer-group rebalance may dead-letter a message twice,
    # so compare per original offset.
    by_offset = {int(dict(r.headers)["x-original-offset"]): r for r in records if r.key == key}
    reasons = [dict(by_offset[o].headers)["x-dlq-reason"].decode() for o in sorted(by_offset)]
    assert reasons == ["malformed_envelope", "unknown_event_type", "handler_failed"]
    dead = by_offset[failing_meta.offset]
    failed_headers = {k: v.decode() for k, v in dead.headers}
    assert failed_headers["x-dlq-handler"].endswith("always_fails")
    assert "cannot handle job" in failed_headers["x-dlq-error"]
    assert failed_headers["x-original-topic"] == TOPIC
    assert dead.value == failing.to_bytes(), "the DLQ keeps the original bytes for replay"
    # Retried (1 try + 2 retries, per delivery), and each failed try rolled back its write.
    assert service.failures.count(failing.payload().job_id) % 3 == 0 and service.failures
    assert (
        await pg_pool.fetchval(
            f'SELECT count(*) FROM "{service.schema}".approvals_seen WHERE job_id=$1',
            failing.payload().job_id,
        )
        == 0
    )
