"""One analytics service for the whole module run, in a schema of its own.

Its consumer group starts at the current end of the topics it reads, so it sees only what
these tests produce (not the history other services' tests left in the shared topics).
Every test uses fresh brand ids and filters what it reads by them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from aligned_analytics.bootstrap import build
from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import topic_of
from aligned_common.identity import Identity, signed_headers
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.polling import eventually
from aligned_testing.schemas import drop_schema
from aligned_testing.service import running_service

from .helpers import READ_POOL_NAME, with_query


async def _retry(make, attempts: int = 30):
    """Kafka may be restarting for another engineer's fault test: wait for it instead of failing."""
    for attempt in range(attempts):
        try:
            return await make()
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(2)


class Harness:
    """The running service plus what tests need to drive it."""

    def __init__(self, svc, producer: AIOKafkaProducer, pool: asyncpg.Pool, bootstrap: str) -> None:
        self.svc = svc
        self.producer = producer
        self.pool = pool
        self.bootstrap = bootstrap
        self.schema = svc.ctx.schema
        self.settings = svc.ctx.settings
        self.uows = svc.ctx.deps.uows  # the service's own units of work (its pools, its schema)

    async def publish(
        self, data: EventData, brand_id: uuid.UUID, tenant_id: uuid.UUID, **envelope
    ) -> EventEnvelope:
        event = new_event(data, brand_id=brand_id, tenant_id=tenant_id)
        if envelope:
            event = event.model_copy(update=envelope)
        await self.producer.send_and_wait(topic_of(event.type), event.to_bytes(), key=str(brand_id).encode())
        return event

    async def processed(self, event: EventEnvelope, timeout_s: float = 60.0) -> None:
        """Wait until the service's inbox has handled this event."""
        await eventually(
            lambda: self.pool.fetchval(
                f'SELECT true FROM "{self.schema}".processed_events WHERE event_id = $1', event.id
            ),
            timeout_s=timeout_s,
            what=f"{event.type} {event.id} handled",
        )

    def client(self, identity: Identity):
        return self.svc.client(headers=signed_headers(identity))


@pytest.fixture(scope="session")
async def analytics(infra, topics) -> AsyncIterator[Harness]:
    schema = f"t_an_{uuid.uuid4().hex[:10]}"
    os.environ.update(
        {
            "ALIGNED_ANALYTICS_SCHEDULER_TICK_S": "0.2",
            "ALIGNED_ANALYTICS_FIRST_POST_SYNC_DELAY_S": "0",
            "ALIGNED_ANALYTICS_SYNC_INTERVAL_S": "3600",
            "ALIGNED_ANALYTICS_RELAY_POLL_INTERVAL_S": "0.2",
            "ALIGNED_ANALYTICS_CONSUMER_RETRY_BASE_S": "0.05",
            # The same database, told apart by its application name: reports must use it.
            "ALIGNED_ANALYTICS_READ_DATABASE_URL": with_query(
                infra.database_url, application_name=READ_POOL_NAME
            ),
        }
    )
    definition = build(name=schema)  # its own schema and consumer group
    await _retry(
        lambda: start_groups_at_end(
            infra.kafka_bootstrap, f"aligned-{schema}", definition.event_router.topics()
        )
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await _retry(producer.start)
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=5)
    try:
        async with running_service(definition) as svc:
            yield Harness(svc, producer, pool, infra.kafka_bootstrap)
    finally:
        await producer.stop()
        await pool.close()
        await drop_schema(infra.database_url, schema)


@pytest.fixture
def brand() -> Identity:
    return Identity(
        tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id=f"user-{uuid.uuid4().hex[:6]}", role="owner"
    )
