"""/readyz reflects what a service needs to answer requests (its database), not Kafka.

Kafka down is a metric (aligned_kafka_up) and an alert: writes keep committing to the outbox
through a broker outage, so taking the pods out of the Service would only turn a delay into
errors. Kafka is "down" here by pointing the broker at a port where nothing listens.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from aligned_common.app import ServiceContext, _ops_router, check_kafka
from aligned_common.settings import ServiceSettings
from aligned_testing.service import free_port

pytestmark = pytest.mark.integration


def _client(ctx: ServiceContext) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(_ops_router(ctx))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


async def test_a_service_whose_kafka_is_down_is_still_ready_and_says_so_in_a_metric(infra):
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    ctx = ServiceContext(
        settings=ServiceSettings(),
        schema="readiness_probe",
        pool=pool,
        read_pool=pool,
        broker=KafkaBroker(f"127.0.0.1:{free_port()}"),
    )
    try:
        assert await check_kafka(ctx) is False
        async with _client(ctx) as client:
            ready = await client.get("/readyz")
            metrics = await client.get("/metrics")
    finally:
        await pool.close()
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "kafka": "down"}
    assert 'aligned_kafka_up{schema="readiness_probe"} 0.0' in metrics.text
    assert REGISTRY.get_sample_value("aligned_kafka_up", {"schema": "readiness_probe"}) == 0


async def test_a_service_whose_kafka_answers_has_the_gauge_at_one(infra):
    broker = KafkaBroker(infra.kafka_bootstrap)
    await broker.start()
    ctx = ServiceContext(settings=ServiceSettings(), schema="readiness_up", broker=broker)
    try:
        assert await check_kafka(ctx) is True
    finally:
        await broker.stop()
    assert REGISTRY.get_sample_value("aligned_kafka_up", {"schema": "readiness_up"}) == 1


async def test_a_service_whose_database_is_down_is_not_ready(infra):
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=2)
    await pool.close()  # a closed pool answers nothing, as a database that went away
    ctx = ServiceContext(
        settings=ServiceSettings(),
        schema="readiness_db",
        pool=pool,
        read_pool=pool,
        broker=KafkaBroker(infra.kafka_bootstrap),
    )
    async with _client(ctx) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["unreachable"] == ["database"]


async def test_a_service_started_while_kafka_is_down_serves_and_is_ready(infra, scratch_schema, monkeypatch):
    import aligned_common.app as app_module
    from aligned_common.app import ServiceDefinition, create_app
    from aligned_common.migrations import migrate

    monkeypatch.setattr(app_module, "BROKER_START_ATTEMPTS", 1)  # do not wait ten seconds for nothing
    await migrate(infra.database_url, scratch_schema, None)
    settings = ServiceSettings(database_url=infra.database_url, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    app = create_app(ServiceDefinition(name=scratch_schema, settings=settings))
    async with app.router.lifespan_context(app):  # before: it raised after two minutes of retries
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service"
        ) as client:
            for _ in range(50):  # the Kafka watcher's first ping
                ready = await client.get("/readyz")
                if ready.json().get("kafka") != "unknown":
                    break
                await asyncio.sleep(0.1)
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "kafka": "down"}
