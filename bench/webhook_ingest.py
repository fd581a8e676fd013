"""webhook_ingest: inbound webhooks verified + deduplicated + stored (+ outbox) per second over HTTP.

The webhooks service runs in its own process (HTTP, consumers, relay, delivery loop: the real
thing) and a load generator on loopback sends pre-signed sandbox webhooks with bounded
concurrency. Baseline in the same run: a bare FastAPI endpoint, also in its own process, that
stores the same body with one asyncpg INSERT. Target: ratio >= 0.5. Latency p50/p99 is measured
at the client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import statistics
import time
import uuid

import asyncpg
import httpx
from fastapi import FastAPI, Request, Response

from aligned_common.migrations import migrate
from aligned_common.platforms.standard_webhooks import WebhookSecret, signed_headers
from aligned_testing.service import free_port
from bench.report import BenchResult

SCHEMA = "bench_webhooks"
BASELINE_SCHEMA = "bench_webhooks_baseline"
N = 3000
WARMUP = 300
CONCURRENCY = 32


# --- the two servers, each in a process of its own ----------------------------------------


def _serve_webhooks(port: int, database_url: str, bootstrap: str, secret: str, key: str) -> None:
    import uvicorn

    from aligned_common.app import create_app
    from aligned_common.telemetry import setup_logging
    from aligned_webhooks.bootstrap import build
    from aligned_webhooks.config import Settings

    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=bootstrap,
        sandbox_secret=secret,
        encryption_key=key,
        log_level="WARNING",
        pool_max_size=20,
    )
    setup_logging("WARNING")
    definition = build(settings, name=SCHEMA)
    # Only the ingest path is measured: its HTTP route and the relay that publishes what it
    # stores. The consumers and the delivery loop would only add noise from unrelated topics.
    definition.event_router = None
    definition.background = []
    uvicorn.run(create_app(definition), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _serve_baseline(port: int, database_url: str) -> None:
    import uvicorn

    state: dict = {}
    app = FastAPI()

    @app.on_event("startup")
    async def _pool() -> None:
        state["pool"] = await asyncpg.create_pool(database_url, min_size=2, max_size=20)

    @app.post("/webhooks/{provider}")
    async def ingest(provider: str, request: Request) -> Response:
        body = await request.body()
        await state["pool"].execute(
            f"INSERT INTO {BASELINE_SCHEMA}.raw_events (id, provider, body) VALUES ($1, $2, $3)",
            uuid.uuid4(),
            provider,
            body,
        )
        return Response(status_code=202)

    @app.get("/readyz")
    async def ready() -> dict:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _start(target, *args) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    return process


async def _wait_ready(base_url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base_url) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{base_url} did not become ready")


# --- load -------------------------------------------------------------------------------------


def _requests(n: int, secret: str, account: str) -> list[tuple[bytes, dict[str, str]]]:
    """Pre-signed so that signing costs the load generator nothing while it is timed."""
    out = []
    for i in range(n):
        body = json.dumps(
            {
                "type": "post.status_changed",
                "timestamp": "2030-01-01T00:00:00+00:00",
                "data": {
                    "post_id": f"p_{i}",
                    "account_id": account,
                    "status": "live",
                    "url": f"https://sandbox/p_{i}",
                },
            }
        ).encode()
        headers = signed_headers(secret, f"msg_{uuid.uuid4().hex}", body)
        out.append((body, {**headers, "content-type": "application/json"}))
    return out


async def _load(base_url: str, requests: list[tuple[bytes, dict[str, str]]]) -> tuple[float, list[float]]:
    """Requests per second and each request's latency (ms)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(body: bytes, headers: dict[str, str]) -> None:
            async with gate:
                started = time.perf_counter()
                response = await client.post("/webhooks/sandbox", content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 202:
                    raise RuntimeError(f"unexpected {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(one(b, h) for b, h in requests))
        elapsed = time.perf_counter() - started
    return len(requests) / elapsed, latencies


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


async def _prepare(database_url: str, account: str) -> None:
    from aligned_webhooks.bootstrap import MIGRATIONS

    await migrate(database_url, SCHEMA, MIGRATIONS)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"TRUNCATE {SCHEMA}.webhook_events, {SCHEMA}.provider_accounts")
        await conn.execute(
            f"INSERT INTO {SCHEMA}.provider_accounts (provider, account_id, brand_id, tenant_id, connection_id)"
            " VALUES ('sandbox', $1, $2, $3, $4)",
            account,
            uuid.uuid4(),
            uuid.uuid4(),
            uuid.uuid4(),
        )
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {BASELINE_SCHEMA}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {BASELINE_SCHEMA}.raw_events (id uuid PRIMARY KEY, provider text NOT NULL,"
            " body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute(f"TRUNCATE {BASELINE_SCHEMA}.raw_events")
    finally:
        await conn.close()


async def run(database_url: str, bootstrap: str) -> BenchResult:
    secret = WebhookSecret.generate()
    account = f"bench_{uuid.uuid4().hex[:8]}"
    await _prepare(database_url, account)
    key = base64.b64encode(os.urandom(32)).decode()
    service_port, baseline_port = free_port(), free_port()
    processes = [
        _start(_serve_webhooks, service_port, database_url, bootstrap, secret, key),
        _start(_serve_baseline, baseline_port, database_url),
    ]
    try:
        service_url, baseline_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{baseline_port}"
        await asyncio.gather(_wait_ready(service_url), _wait_ready(baseline_url))
        await _load(baseline_url, _requests(WARMUP, secret, account))
        await _load(service_url, _requests(WARMUP, secret, account))
        baseline_rate, baseline_latency = await _load(baseline_url, _requests(N, secret, account))
        service_rate, service_latency = await _load(service_url, _requests(N, secret, account))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(10)
    ratio = service_rate / baseline_rate
    return BenchResult(
        name="webhook_ingest",
        unit="webhooks/s",
        measured={
            "webhooks_per_s": service_rate,
            "p50_ms": _percentile(service_latency, 50),
            "p99_ms": _percentile(service_latency, 99),
        },
        baseline={
            "bare_insert_per_s": baseline_rate,
            "p50_ms": _percentile(baseline_latency, 50),
            "p99_ms": _percentile(baseline_latency, 99),
        },
        ratio=ratio,
        target=">= 0.5",
        passed=ratio >= 0.5,
        notes={"requests": str(N), "concurrency": str(CONCURRENCY)},
    )


if __name__ == "__main__":
    result = asyncio.run(
        run(
            os.environ.get("ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned"),
            os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        )
    )
    print(result)
