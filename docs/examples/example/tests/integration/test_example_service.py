"""The example service for real: migrated on PostgreSQL, an event through Kafka, a route served."""

import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaProducer

from aligned_common.envelope import new_event
from aligned_common.events.gateway import BrandCreated
from aligned_common.events.registry import topic_of
from aligned_common.identity import Identity, signed_headers
from aligned_example.bootstrap import build
from aligned_testing.clock import MovableClock
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.polling import eventually
from aligned_testing.schemas import drop_schema
from aligned_testing.service import running_service

pytestmark = pytest.mark.integration


async def test_a_brand_created_on_kafka_is_welcomed_over_http(infra, topics):
    name = f"t_ex_{uuid.uuid4().hex[:10]}"  # a scratch schema and consumer group
    clock = MovableClock()
    definition = build(name=name, clock=clock)
    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{name}", definition.event_router.topics())
    identity = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="u-1", role="owner")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        async with running_service(definition) as svc, svc.client(headers=signed_headers(identity)) as client:
            unknown = await client.get("/v1/example/welcome")  # nothing heard yet: a domain error
            assert (unknown.status_code, unknown.json()["title"]) == (404, "Brand not found")

            event = new_event(
                BrandCreated(name="Acme"), brand_id=identity.brand_id, tenant_id=identity.tenant_id
            )
            await producer.send_and_wait(
                topic_of(event.type), event.to_bytes(), key=str(identity.brand_id).encode()
            )

            async def welcomed():
                response = await client.get("/v1/example/welcome")
                return response.json() if response.status_code == 200 else None

            assert await eventually(welcomed, timeout_s=60, what="the brand welcomed") == {
                "message": "Welcome to Acme"
            }
            # The inbox recorded it under the declared name, in the service's own schema.
            handler = await svc.ctx.pool.fetchval(
                f'SELECT handler FROM "{name}".processed_events WHERE event_id = $1', event.id
            )
            assert handler == "example.on_brand_created"

            clock.advance(timedelta(days=8))  # the route asks the clock the service was built with
            assert (await client.get("/v1/example/welcome")).json() == {"message": "Welcome back to Acme"}
    finally:
        await producer.stop()
        await drop_schema(infra.database_url, name)
