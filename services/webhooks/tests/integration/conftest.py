"""One running webhooks service (under a scratch schema) and a local receiver, shared by the
integration tests; each test uses fresh brand ids, so tests do not see each other's rows."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response

from aligned_common.envelope import new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import topic_of
from aligned_common.identity import Identity
from aligned_common.kafka import reliable_producer
from aligned_testing.clock import MovableClock
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.schemas import drop_schema
from aligned_testing.service import RunningService, free_port, running_service
from aligned_testing.webhooks import META_APP_SECRET, META_VERIFY_TOKEN, SANDBOX_SECRET, Receiver
from aligned_webhooks.bootstrap import build
from aligned_webhooks.config import Settings


@pytest.fixture(scope="session")
async def webhooks_schema(infra) -> AsyncIterator[str]:
    schema = f"t_wh_{uuid.uuid4().hex[:10]}"
    yield schema
    await drop_schema(infra.database_url, schema)


def test_settings() -> Settings:
    return Settings(
        encryption_key=base64.b64encode(os.urandom(32)).decode(),
        sandbox_secret=SANDBOX_SECRET,
        provider_secrets={"facebook": [META_APP_SECRET]},
        provider_verify_tokens={"facebook": META_VERIFY_TOKEN},
        allow_loopback_targets=True,  # the receiver runs on 127.0.0.1
        allow_http_targets=True,
        retry_scale=0.01,  # 5 s -> 50 ms, 5 min -> 3 s
        retry_jitter=0.1,
        delivery_poll_interval_s=0.2,
        delivery_timeout_s=5.0,
        relay_poll_interval_s=0.2,
        pool_max_size=20,
    )


@pytest.fixture(scope="session")
def session_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def clock(session_clock) -> MovableClock:
    """The running service's clock; a test may move it, and it is put back after."""
    yield session_clock
    session_clock.offset = timedelta()


@pytest.fixture(scope="session")
async def webhooks(infra, topics, webhooks_schema, session_clock) -> AsyncIterator[RunningService]:
    definition = build(test_settings(), name=webhooks_schema, clock=session_clock)
    await start_groups_at_end(
        infra.kafka_bootstrap, f"aligned-{webhooks_schema}", definition.event_router.topics()
    )
    async with running_service(definition) as service:
        yield service


@pytest.fixture
def settings(webhooks) -> Settings:
    """The running service's settings; a test may change them, and they are restored after."""
    saved = dict(webhooks.ctx.settings)
    yield webhooks.ctx.settings
    for name, value in saved.items():
        setattr(webhooks.ctx.settings, name, value)


@pytest.fixture
async def client(webhooks) -> AsyncIterator[httpx.AsyncClient]:
    async with webhooks.client() as c:
        yield c


@pytest.fixture
def brand() -> Identity:
    return Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="user-1", role="owner")


@pytest.fixture(scope="session")
async def publish(infra, topics) -> AsyncIterator[Callable[..., Awaitable[uuid.UUID]]]:
    """Publish another service's event, as its relay would."""
    producer = reliable_producer(infra.kafka_bootstrap)
    await producer.start()

    async def send(data: EventData, identity: Identity, subject: str | None = None) -> uuid.UUID:
        envelope = new_event(data, brand_id=identity.brand_id, tenant_id=identity.tenant_id, subject=subject)
        await producer.send_and_wait(
            topic_of(envelope.type), envelope.to_bytes(), key=str(identity.brand_id).encode()
        )
        return envelope.id

    yield send
    await producer.stop()


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    app = FastAPI()
    port = free_port()
    state = Receiver(base_url=f"http://127.0.0.1:{port}")

    @app.post("/hook/{name}")
    async def hook(name: str, request: Request) -> Response:
        return await state.handle(f"/hook/{name}", request)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield state
    server.should_exit = True
    server.force_exit = True  # a request a test left hanging must not hold up the end of the session
    await serving
