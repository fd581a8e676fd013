"""connections_publish: attempt_requested -> post_published through the whole connections
service (Kafka in, attempt record, rate bucket, platform call, outbox out), against the bare
platform calls it wraps.

Baseline: the same number of SandboxAdapter.publish calls made directly, one after another, in
the same run against the same in-process sandbox server. The ratio says how much of the
platform's own rate the no-duplicate machinery keeps.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
import uuid

import httpx
import uvicorn

from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.publishing import AttemptRequested
from aligned_common.identity import Identity, signed_headers
from aligned_common.kafka import ensure_topics, reliable_producer
from aligned_connections.adapters.platforms import PublishRequest
from aligned_connections.bootstrap import build
from aligned_connections.config import Settings
from aligned_sandbox import create_app
from aligned_sandbox.config import SandboxConfig
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.sandbox import redirect_query
from aligned_testing.service import running_service
from bench.report import BenchResult

N = 300
ACCOUNTS = 6


async def _start_group_at_end(bootstrap: str, group_id: str, topics: list[str]) -> None:
    """A new consumer group would first read every topic's history; start it at the end."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = []
        for topic in topics:
            for _ in range(50):
                found = consumer.partitions_for_topic(topic)
                if found:
                    break
                await consumer._client.force_metadata_update()  # no public call refreshes the cache
                await asyncio.sleep(0.1)
            partitions += [TopicPartition(topic, p) for p in sorted(found or [])]
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _connect(base_url: str, brand: uuid.UUID, tenant: uuid.UUID, account: str) -> str:
    headers = signed_headers(Identity(tenant, brand, "bench", "owner"))
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30) as api,
        httpx.AsyncClient(timeout=10) as browser,
    ):
        started = await api.post(
            "/v1/connections/oauth/sandbox/start",
            json={"redirect_uri": "https://bench.test/cb"},
            headers=headers,
        )
        consent = await browser.get(
            started.json()["authorization_url"] + f"&auto_approve=1&account={account}"
        )
        answer = redirect_query(consent.headers["location"])
        done = await api.post("/v1/connections/oauth/sandbox/callback", json=answer | {}, headers=headers)
        return done.json()["connection"]["id"]


async def _baseline(deps, brand_connections) -> float:
    tokens = []
    for brand, _, connection_id in brand_connections:
        async with deps.uow(brand) as uow:
            row = await uow.connections.get(brand, uuid.UUID(connection_id))
        tokens.append(deps.vault.access_token(row))
    adapter = deps.platform("sandbox")
    started = time.perf_counter()
    for i in range(N):
        await adapter.publish(
            tokens[i % len(tokens)],
            PublishRequest(text=f"baseline {i} {uuid.uuid4().hex}", idempotency_key=uuid.uuid4().hex),
        )
    return N / (time.perf_counter() - started)


async def _through_service(bootstrap, brand_connections) -> float:
    producer = reliable_producer(bootstrap)
    await producer.start()
    brands = {b for b, _, _ in brand_connections}
    try:
        async with TopicReader(bootstrap, "aligned.connections.events") as reader:
            started = time.perf_counter()
            for i in range(N):
                brand, tenant, connection_id = brand_connections[i % len(brand_connections)]
                data = AttemptRequested(
                    job_id=uuid.uuid4(),
                    target_id=uuid.uuid4(),
                    platform="sandbox",
                    connection_id=uuid.UUID(connection_id),
                    idempotency_key=f"bench-{uuid.uuid4()}",
                    attempt=1,
                    text=f"bench {i} {uuid.uuid4().hex}",
                )
                envelope = new_event(data, brand_id=brand, tenant_id=tenant)
                await producer.send("aligned.publishing.events", envelope.to_bytes(), key=str(brand).encode())
            await producer.flush()

            def done(records) -> bool:
                answered = [
                    r
                    for r in records
                    if EventEnvelope.from_bytes(r.value).brand_id in brands
                    and EventEnvelope.from_bytes(r.value).type == "connections.post_published"
                ]
                return len(answered) >= N

            await reader.read_until(done, timeout_s=110, settle_s=0)
            return N / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def run(database_url: str, bootstrap: str) -> BenchResult:
    os.environ.setdefault("ALIGNED_INTERNAL_SECRET", uuid.uuid4().hex)
    await ensure_topics(bootstrap)
    sandbox_port = _port()
    sandbox = uvicorn.Server(
        uvicorn.Config(
            create_app(SandboxConfig(rate_limit_capacity=1_000_000, rate_limit_refill_per_s=1_000_000)),
            host="127.0.0.1",
            port=sandbox_port,
            log_config=None,
        )
    )
    sandbox_task = asyncio.create_task(sandbox.serve())
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    await asyncio.sleep(0.5)
    schema = f"bench_connections_{uuid.uuid4().hex[:6]}"
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        sandbox_url=sandbox_url,
        bluesky_service_url=None,
        encryption_keys=json.dumps({"k1": base64.b64encode(os.urandom(32)).decode()}),
        active_key_id="k1",
        state_secret=uuid.uuid4().hex,
        rate_limit_capacity=1_000_000,
        rate_limit_refill_per_s=1_000_000,
        relay_poll_interval_s=0.05,
        answer_unknown_connections=False,
    )
    definition = build(settings, name=schema)
    assert definition.event_router is not None
    await _start_group_at_end(bootstrap, f"aligned-{schema}", definition.event_router.topics())
    try:
        async with running_service(definition) as svc:
            brand_connections = []
            for index in range(ACCOUNTS):
                brand, tenant = uuid.uuid4(), uuid.uuid4()
                brand_connections.append(
                    (brand, tenant, await _connect(svc.base_url, brand, tenant, f"bench{index}"))
                )
            await asyncio.sleep(3)  # let the consumer group settle before timing
            through_service = await _through_service(bootstrap, brand_connections)
            baseline = await _baseline(definition.deps, brand_connections)
    finally:
        sandbox.should_exit = True
        await sandbox_task
        import asyncpg

        conn = await asyncpg.connect(database_url)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
    ratio = through_service / baseline
    return BenchResult(
        name="connections_publish",
        unit="posts/s",
        measured={"posts_per_s": through_service},
        baseline={"bare_platform_calls_per_s": baseline},
        ratio=ratio,
        target=">= 0.1",
        passed=ratio >= 0.1,
        notes={"attempts": str(N), "accounts": str(ACCOUNTS)},
    )
