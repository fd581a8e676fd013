"""Integration fixtures: the sandbox platform on a real port, and the connections service run
in-process (real HTTP, real Kafka, real PostgreSQL) under a scratch schema."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from aligned_common.db import Role, UnitOfWork
from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData
from aligned_common.identity import Identity, signed_headers
from aligned_common.kafka import reliable_producer
from aligned_connections.bootstrap import build
from aligned_connections.config import Settings
from aligned_connections.service_layer.deps import Deps
from aligned_sandbox import create_app
from aligned_sandbox.config import SandboxConfig
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually
from aligned_testing.sandbox import redirect_query
from aligned_testing.schemas import drop_schema
from aligned_testing.service import free_port, running_service

REDIRECT_URI = "https://app.aligned.test/connections/callback"
CONNECTIONS_TOPIC = "aligned.connections.events"


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Sandbox:
    base_url: str
    http: httpx.AsyncClient

    async def fault(self, **spec) -> None:
        response = await self.http.post("/_control/faults", json=spec)
        assert response.status_code == 201, response.text

    async def faults(self) -> list[dict]:
        return (await self.http.get("/_control/faults")).json()

    async def clear_faults(self) -> None:
        await self.http.delete("/_control/faults")

    async def configure(self, **changes) -> None:
        response = await self.http.post("/_control/config", json=changes)
        assert response.status_code == 200, response.text

    async def advance_clock(self, seconds: float) -> None:
        await self.http.post("/_control/clock/advance", json={"seconds": seconds})

    async def counts(self) -> dict:
        return (await self.http.get("/_control/posts/counts")).json()


@asynccontextmanager
async def sandbox_server() -> AsyncIterator[Sandbox]:
    """The sandbox platform on a port of its own: a real HTTP server."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(SandboxConfig()), host="127.0.0.1", port=port, log_config=None, lifespan="on"
        )
    )
    serving = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(100):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
        yield Sandbox(base_url, client)
    server.should_exit = True
    await serving


@pytest.fixture(scope="module")
async def module_sandbox() -> AsyncIterator[Sandbox]:
    async with sandbox_server() as started:
        yield started


@pytest.fixture
async def sandbox(module_sandbox) -> AsyncIterator[Sandbox]:
    """The module's sandbox, forgotten (accounts, posts, faults, clock, config) before each test."""
    await module_sandbox.http.post("/_control/reset")
    yield module_sandbox
    await module_sandbox.http.post("/_control/reset")


@dataclass
class Service:
    base_url: str
    schema: str
    ctx: object
    settings: Settings
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: str
    bootstrap: str

    @property
    def deps(self) -> Deps:
        return self.ctx.deps

    def uow(self, brand_id: uuid.UUID | None = None, role: Role = "app") -> UnitOfWork:
        """A transaction on the service's schema, for a test's own SQL."""
        return UnitOfWork(self.deps.database.pool, self.schema, brand_id=brand_id, role=role)

    def headers(
        self, role: str = "owner", brand_id: uuid.UUID | None = None, user_id: str | None = None
    ) -> dict[str, str]:
        return signed_headers(
            Identity(self.tenant_id, brand_id or self.brand_id, user_id or self.user_id, role)
        )

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30)


def service_settings(sandbox: Sandbox, **overrides) -> Settings:
    values = {
        "encryption_keys": json.dumps({"k1": random_key()}),
        "active_key_id": "k1",
        "state_secret": "test-state-secret-" + uuid.uuid4().hex,
        "sandbox_url": sandbox.base_url,
        "bluesky_service_url": None,
        "platform_read_timeout_s": 2.0,
        "refresh_interval_s": 0.2,
        "refresh_backoff_base_s": 0.2,
        "refresh_backoff_max_s": 1.0,
        "default_retry_after_s": 0.2,
        "consumer_retry_base_s": 0.05,
        "relay_poll_interval_s": 0.2,
        # This scratch copy shares the topics with every other test: it must not answer events
        # about connections it does not hold (they belong to someone else's test).
        "answer_unknown_connections": False,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def service_running(bootstrap: str, settings: Settings, schema: str) -> AsyncIterator[Service]:
    definition = build(settings, name=schema)  # a schema and a consumer group of its own
    await start_groups_at_end(bootstrap, f"aligned-{schema}", definition.event_router.topics())
    async with running_service(definition) as svc:
        yield Service(
            svc.base_url, schema, svc.ctx, settings, uuid.uuid4(), uuid.uuid4(), "user-1", bootstrap
        )


@pytest.fixture(scope="module")
def service_overrides() -> dict:
    """Settings a test module wants different (override this fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
async def module_service(infra, topics, module_sandbox, service_overrides) -> AsyncIterator[Service]:
    """One running service per test module (starting one joins Kafka groups: seconds)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = service_settings(module_sandbox, **service_overrides)
    try:
        async with service_running(infra.kafka_bootstrap, settings, schema) as svc:
            yield svc
    finally:
        await drop_schema(infra.database_url, schema)


@pytest.fixture
async def service(module_service, sandbox) -> AsyncIterator[Service]:
    """The module's service seen by a brand of this test's own."""
    yield dataclasses.replace(module_service, brand_id=uuid.uuid4(), tenant_id=uuid.uuid4())
    # The sandbox forgets its accounts between tests; the refresh scheduler must not keep
    # trying (and using up the next test's injected faults) with tokens that no longer exist.
    async with module_service.uow(role="worker") as uow:
        await uow.conn.execute(
            "UPDATE platform_connections SET status = 'disconnected' WHERE status = 'connected'"
        )


async def connect_account(svc: Service, account: str = "alice", brand_id: uuid.UUID | None = None) -> dict:
    """The whole OAuth dance as the frontend and the user's browser would do it."""
    headers = svc.headers(brand_id=brand_id)
    async with svc.client() as api, httpx.AsyncClient(timeout=10) as browser:
        started = await api.post(
            "/v1/connections/oauth/sandbox/start", json={"redirect_uri": REDIRECT_URI}, headers=headers
        )
        assert started.status_code == 201, started.text
        consent = await browser.get(
            started.json()["authorization_url"] + f"&auto_approve=1&account={account}"
        )
        assert consent.status_code == 302, consent.text
        answer = redirect_query(consent.headers["location"])
        done = await api.post(
            "/v1/connections/oauth/sandbox/callback",
            json={"code": answer["code"], "state": answer["state"]},
            headers=headers,
        )
        assert done.status_code == 200, done.text
        return done.json()["connection"]


class Events:
    """Publishes events as another service would, and reads what connections answered."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._producer = reliable_producer(bootstrap)

    async def __aenter__(self) -> Events:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._producer.stop()

    async def publish(self, data: EventData, brand_id: uuid.UUID, tenant_id: uuid.UUID) -> EventEnvelope:
        envelope = new_event(data, brand_id=brand_id, tenant_id=tenant_id)
        await self.send(envelope)
        return envelope

    async def send(self, envelope: EventEnvelope) -> None:
        from aligned_common.events.registry import topic_of

        await self._producer.send_and_wait(
            topic_of(envelope.type), envelope.to_bytes(), key=str(envelope.brand_id).encode()
        )


def envelopes_of(records, brand_ids: set[uuid.UUID], event_type: str | None = None) -> list[EventEnvelope]:
    """Events of these brands, each once: delivery is at least once (a relay that lost its
    acknowledgement sends again, with the same event id), and consumers dedupe by id."""
    found: dict[uuid.UUID, EventEnvelope] = {}
    for record in records:
        envelope = EventEnvelope.from_bytes(record.value)
        if envelope.brand_id in brand_ids and (event_type is None or envelope.type == event_type):
            found.setdefault(envelope.id, envelope)
    return list(found.values())


@dataclass(frozen=True)
class Tools:
    """Helpers for the tests (pytest's importlib mode does not let tests import conftest)."""

    connect: Callable = connect_account
    envelopes_of: Callable = envelopes_of
    eventually: Callable = eventually
    reader: Callable = TopicReader
    topic: str = CONNECTIONS_TOPIC


@pytest.fixture
def tools() -> Tools:
    return Tools()


@pytest.fixture
async def events(infra) -> AsyncIterator[Events]:
    async with Events(infra.kafka_bootstrap) as producer:
        yield producer
