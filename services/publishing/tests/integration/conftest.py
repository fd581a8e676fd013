"""Fixtures: one running publishing service per test module, a producer, a fresh brand per test."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaProducer

from aligned_testing.publishing import Brand, MovableClock, make_settings, publishing_service
from aligned_testing.schemas import drop_schema


@pytest.fixture(scope="module")
async def module_schema(infra):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    await drop_schema(infra.database_url, schema)


@pytest.fixture(scope="module")
async def svc(infra, topics, module_schema):
    """One running service per test module; tests use their own brands, so they do not meet."""
    clock = MovableClock()
    settings = make_settings()
    async with publishing_service(infra, module_schema, settings, clock) as running:
        yield running


@pytest.fixture(autouse=True)
def _real_time(request):
    if "svc" in request.fixturenames:
        request.getfixturevalue("svc").clock.offset = timedelta()


@pytest.fixture(scope="module")
async def producer(infra):
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def brand(producer, request) -> Brand:
    """A fresh brand; with a running service, one connected sandbox account (brand.sandbox)."""
    brand = Brand(producer)
    if "svc" in request.fixturenames:
        brand.sandbox = await brand.connect(request.getfixturevalue("svc"))
    return brand
