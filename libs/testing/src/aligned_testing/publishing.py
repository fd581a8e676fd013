"""Test helpers for the publishing service (also for e2e tests): the service in-process on a
scratch schema, a brand that sends its peers' events to the real broker, and a clock the
tests can move (due times, retries, grace windows, DST)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from aligned_common.envelope import new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import topic_of
from aligned_common.identity import Identity, Role, signed_headers
from aligned_publishing.bootstrap import build
from aligned_publishing.config import Settings
from aligned_testing.clock import MovableClock
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.service import running_service


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test run (media live in the object store the `infra` fixture names in ALIGNED_S3_*)."""
    values: dict[str, Any] = {
        "dispatch_interval_s": 0.05,
        "retry_base_s": 0.2,
        "retry_cap_s": 0.6,
        "publishing_timeout_s": 300.0,
        "hold_grace_s": 600.0,
        "default_quota_bytes": 5 * 1024**3,
        "consumer_retry_base_s": 0.05,
        "relay_poll_interval_s": 0.2,
        "pool_max_size": 6,
        "upload_part_bytes": 5 * 1024**2,  # S3's smallest part: multipart uploads of a few parts stay small
        "feed_poll_tick_s": 3600.0,  # tests poll feeds themselves (feed_polling.poll_due / poll_one)
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def publishing_service(infra, schema: str, settings: Settings, clock: MovableClock):
    definition = build(settings, name=schema, clock=clock)
    assert definition.event_router is not None  # publishing consumes its peers' events
    await start_groups_at_end(infra.kafka_bootstrap, f"aligned-{schema}", definition.event_router.topics())
    async with running_service(definition) as svc:
        svc.clock = clock
        yield svc


class Brand:
    """A fresh brand per test: its identity headers and a way to send events as its peers."""

    def __init__(self, producer: AIOKafkaProducer, role: str = "editor") -> None:
        self.brand_id = uuid.uuid4()
        self.tenant_id = uuid.uuid4()
        self.identity = Identity(self.tenant_id, self.brand_id, "user-1", cast(Role, role))
        self._producer = producer
        self.sandbox: uuid.UUID | None = None  # a connected sandbox account, once connect() made one

    def as_role(self, role: str, user_id: str | None = None) -> Brand:
        """The same brand, another caller."""
        other = Brand(self._producer, role)
        other.brand_id, other.tenant_id, other.sandbox = self.brand_id, self.tenant_id, self.sandbox
        other.identity = Identity(self.tenant_id, self.brand_id, user_id or f"{role}-1", cast(Role, role))
        return other

    async def connect(self, svc, platform: str = "sandbox", status: str = "active") -> uuid.UUID:
        return await known_connection(svc, self.brand_id, platform, status)

    @property
    def headers(self) -> dict[str, str]:
        return signed_headers(self.identity)

    def envelope(self, data: EventData):
        return new_event(data, brand_id=self.brand_id, tenant_id=self.tenant_id)

    async def send(self, data: EventData | None = None, *, envelope=None):
        if envelope is None:
            if data is None:
                raise TypeError("send() takes the event's data or its envelope")
            envelope = self.envelope(data)
        await self._producer.send_and_wait(
            topic_of(envelope.type), envelope.to_bytes(), key=str(self.brand_id).encode()
        )
        return envelope


async def known_connection(
    svc, brand_id: uuid.UUID, platform: str = "sandbox", status: str = "active"
) -> uuid.UUID:
    """A connection of the brand as publishing knows it from connections' events, written
    straight into its projection (the consumer path has its own test)."""
    from aligned_common.db import UnitOfWork
    from aligned_common.known_connections import put as put_connection

    connection_id = uuid.uuid4()
    async with UnitOfWork(svc.ctx.pool, svc.ctx.schema, brand_id=brand_id) as uow:
        await put_connection(uow.conn, brand_id, connection_id, platform, status, datetime.now(UTC))
    return connection_id


def job_body(connection_id: uuid.UUID | None = None, **overrides) -> dict:
    body = {
        "content": "Spring collection is live",
        "tags": ["launch"],
        "targets": [{"platform": "sandbox", "connection_id": str(connection_id or uuid.uuid4())}],
    }
    body.update(overrides)
    return body


def events_of(records, brand: Brand, event_type: str) -> list[dict]:
    """Envelopes (as dicts) of one type for one brand, in the order they reached the topic."""
    import orjson

    found = []
    for record in records:
        if record.key != str(brand.brand_id).encode():
            continue
        envelope = orjson.loads(record.value)
        if envelope["type"] == event_type:
            found.append(envelope)
    return found


async def seed_due_jobs(
    conn,
    schema: str,
    brand_ids: list[uuid.UUID],
    jobs_per_brand: int,
    due_at: datetime,
    targets_per_job: int = 1,
) -> list[uuid.UUID]:
    """Scheduled jobs whose targets are due at `due_at`, written in bulk (for the dispatcher's
    tests and benchmark, where creating thousands through the API would only measure the API).
    Returns the target ids."""
    from aligned_publishing.domain.retry import idempotency_key

    tenant = uuid.uuid4()
    jobs = [(uuid.uuid4(), brand) for brand in brand_ids for _ in range(jobs_per_brand)]
    targets = [(uuid.uuid4(), job_id, brand) for job_id, brand in jobs for _ in range(targets_per_job)]
    await conn.execute(
        f"""INSERT INTO "{schema}".publishing_jobs (job_id, brand_id, tenant_id, author_id, content, status,
                                                   scheduled_at, approval_round)
            SELECT j, b, $3, 'seed', 'Seeded post ' || j, 'scheduled', $4, 1
              FROM unnest($1::uuid[], $2::uuid[]) AS u(j, b)""",
        [j for j, _ in jobs],
        [b for _, b in jobs],
        tenant,
        due_at,
    )
    await conn.execute(
        f"""INSERT INTO "{schema}".publishing_targets (target_id, job_id, brand_id, position, platform, connection_id,
                                                      idempotency_key, status, next_attempt_at, due_at)
            SELECT t, j, b, 0, 'sandbox', gen_random_uuid(), k, 'scheduled', $5, $5
              FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[]) AS u(t, j, b, k)""",
        [t for t, _, _ in targets],
        [j for _, j, _ in targets],
        [b for _, _, b in targets],
        [idempotency_key(j, t) for t, j, _ in targets],
        due_at,
    )
    return [t for t, _, _ in targets]
