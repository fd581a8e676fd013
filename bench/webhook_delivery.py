"""webhook_delivery: outbound signed deliveries per second to a local receiver.

The webhooks service runs in its own process with only its delivery loop (no consumers, so no
unrelated topic traffic), eight endpoints registered through its API point at a bare receiver
in a third process, and N deliveries are queued the way the fan-out queues them. Measured: queued
-> every delivery succeeded and recorded. Baseline in the same run: a bare httpx client POSTing
the same bodies to the same receiver with the same number of requests in flight (32 = 8
endpoints x 4 per endpoint). The issue sets no target; we ask for at least 0.3 of raw HTTP,
since each delivery also claims, signs, records its attempt and commits.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid

import asyncpg
import httpx
import orjson
from fastapi import FastAPI, Response

from aligned_common.identity import Identity, signed_headers
from aligned_common.migrations import migrate
from aligned_testing.service import free_port
from bench.report import BenchResult
from bench.webhook_ingest import _start, _wait_ready

SCHEMA = "bench_webhook_delivery"
N = 3000
ENDPOINTS = 8
PER_ENDPOINT = 4


def _serve_receiver(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.post("/hook/{name}")
    async def hook(name: str) -> Response:
        return Response(status_code=204)

    @app.get("/readyz")
    async def ready() -> dict:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _serve_webhooks(port: int, database_url: str, bootstrap: str, key: str, secret: str) -> None:
    import uvicorn

    from aligned_common.app import create_app
    from aligned_common.telemetry import setup_logging
    from aligned_webhooks.bootstrap import build
    from aligned_webhooks.config import Settings

    os.environ["ALIGNED_INTERNAL_SECRET"] = secret
    setup_logging("WARNING")
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        encryption_key=key,
        log_level="WARNING",
        allow_loopback_targets=True,
        allow_http_targets=True,
        delivery_per_endpoint=PER_ENDPOINT,
        delivery_concurrency=ENDPOINTS * PER_ENDPOINT,
        pool_max_size=20,
        delivery_poll_interval_s=0.2,
    )
    definition = build(settings, name=SCHEMA)
    definition.event_router = None  # deliveries are queued directly below
    uvicorn.run(create_app(definition), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _body(i: int) -> bytes:
    return orjson.dumps(
        {"id": str(uuid.uuid4()), "type": "publishing.job_published", "data": {"n": i, "pad": "x" * 400}}
    )


async def _raw_rate(receiver_url: str, n: int) -> float:
    concurrency = ENDPOINTS * PER_ENDPOINT
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), timeout=30) as client:

        async def one(i: int) -> None:
            async with gate:
                response = await client.post(f"{receiver_url}/hook/e{i % ENDPOINTS}", content=_body(i))
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - started)


async def _register(service_url: str, receiver_url: str, brand: Identity) -> list[uuid.UUID]:
    ids = []
    async with httpx.AsyncClient(base_url=service_url, timeout=30) as client:
        for i in range(ENDPOINTS):
            response = await client.post(
                "/v1/webhook-endpoints",
                json={"url": f"{receiver_url}/hook/e{i}"},
                headers=signed_headers(brand),
            )
            response.raise_for_status()
            ids.append(uuid.UUID(response.json()["id"]))
    return ids


async def _delivery_rate(pool: asyncpg.Pool, brand: Identity, endpoint_ids: list[uuid.UUID], n: int) -> float:
    rows = [
        (
            uuid.uuid4(),
            brand.brand_id,
            endpoint_ids[i % len(endpoint_ids)],
            uuid.uuid4(),
            "publishing.job_published",
            _body(i),
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    await pool.executemany(
        f"INSERT INTO {SCHEMA}.deliveries (id, brand_id, endpoint_id, event_id, event_type, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )
    await pool.execute("SELECT pg_notify($1, '')", f"{SCHEMA}_deliveries")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        done = await pool.fetchval(
            f"SELECT count(*) FROM {SCHEMA}.deliveries WHERE brand_id = $1 AND status = 'succeeded'",
            brand.brand_id,
        )
        if done >= n:
            return n / (time.perf_counter() - started)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"only {done} of {n} deliveries succeeded")


async def run(database_url: str, bootstrap: str) -> BenchResult:
    from aligned_webhooks.bootstrap import MIGRATIONS

    await migrate(database_url, SCHEMA, MIGRATIONS)
    internal_secret = os.environ.setdefault("ALIGNED_INTERNAL_SECRET", uuid.uuid4().hex)
    key = base64.b64encode(os.urandom(32)).decode()
    service_port, receiver_port = free_port(), free_port()
    processes = [
        _start(_serve_receiver, receiver_port),
        _start(_serve_webhooks, service_port, database_url, bootstrap, key, internal_secret),
    ]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        service_url, receiver_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{receiver_port}"
        await asyncio.gather(_wait_ready(service_url), _wait_ready(receiver_url))
        brand = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="bench", role="owner")
        endpoint_ids = await _register(service_url, receiver_url, brand)
        await _raw_rate(receiver_url, 300)  # warm up
        raw = await _raw_rate(receiver_url, N)
        delivered = await _delivery_rate(pool, brand, endpoint_ids, N)
    finally:
        await pool.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(10)
    ratio = delivered / raw
    return BenchResult(
        name="webhook_delivery",
        unit="deliveries/s",
        measured={"deliveries_per_s": delivered},
        baseline={"raw_http_posts_per_s": raw},
        ratio=ratio,
        target=">= 0.3",
        passed=ratio >= 0.3,
        notes={"deliveries": str(N), "endpoints": str(ENDPOINTS), "in_flight": str(ENDPOINTS * PER_ENDPOINT)},
    )


if __name__ == "__main__":
    print(
        asyncio.run(
            run(
                os.environ.get(
                    "ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned"
                ),
                os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
            )
        )
    )
