"""gateway_fanout: is the dashboard's fan-out parallel, and what does a hop through the gateway cost?

Four stub upstreams with fixed artificial delays (publishing 20 ms, approval 30 ms,
connections 40 ms, analytics 60 ms) stand in for the services, so the figures are about the
gateway. Stubs and gateway run in processes of their own; the load comes from this one.

- dashboard p50/p99 under concurrent load (read cache off, so every call fans out),
  against the slowest upstream (analytics) called directly with the same load in the same
  run. Target: dashboard p99 <= 1.5x the slowest upstream's p99 (a sequential fan-out
  would be ~2.5x: 20+30+40+60 ms against 60 ms).
- pass-through overhead: GET /v1/jobs through the gateway (auth, membership, rate limit in
  PostgreSQL, signed headers) against the publishing stub directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
import uuid
from pathlib import Path

import httpx

from aligned_testing.schemas import drop_schema
from bench.report import BenchResult

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "gateway" / "migrations"
DELAYS = {"publishing": 0.020, "approval": 0.030, "connections": 0.040, "analytics": 0.060, "webhooks": 0.010}
SCHEMA = "bench_gateway"
REQUESTS = 200
CONCURRENCY = 4


def _serve_stub(name: str, port: int, secret: str) -> None:
    """One stub per process, like one service per process: they do not share a CPU queue."""
    os.environ["ALIGNED_INTERNAL_SECRET"] = secret
    from aligned_testing.gateway import StubState, start_app, stub_app

    async def main() -> None:
        await start_app(stub_app(StubState(name, DELAYS[name])), port=port)
        await asyncio.Event().wait()

    asyncio.run(main())


def _serve_gateway(port: int, env: dict[str, str]) -> None:
    os.environ.update(env)
    from aligned_gateway.bootstrap import build, serve
    from aligned_gateway.config import Settings

    serve(build(Settings(http_port=port), name=SCHEMA))


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def _load(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[float]:
    latencies: list[float] = []
    queue = iter(range(REQUESTS))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(database_url: str, bootstrap: str) -> BenchResult:
    from aligned_common.identity import Identity, signed_headers
    from aligned_common.migrations import migrate
    from aligned_testing.gateway import JWT_SECRET, new_brand
    from aligned_testing.service import free_port

    os.environ.setdefault("ALIGNED_INTERNAL_SECRET", uuid.uuid4().hex)
    secret = JWT_SECRET  # the test helpers sign their tokens with it
    ports = {name: free_port() for name in DELAYS}
    gateway_port = free_port()
    env = {
        "ALIGNED_DATABASE_URL": database_url,
        "ALIGNED_KAFKA_BOOTSTRAP": bootstrap,
        "ALIGNED_LOG_LEVEL": "WARNING",
        "ALIGNED_INTERNAL_SECRET": os.environ["ALIGNED_INTERNAL_SECRET"],
        "ALIGNED_GATEWAY_JWT_SECRET": secret,
        "ALIGNED_GATEWAY_READ_CACHE_TTL_S": "0",
        "ALIGNED_GATEWAY_LIVE_EVENTS_ENABLED": "false",
        "ALIGNED_GATEWAY_BRAND_BURST": "1000000",
        "ALIGNED_GATEWAY_USER_BURST": "1000000",
        "ALIGNED_GATEWAY_FANOUT_DEADLINE_S": "5",
        **{f"ALIGNED_GATEWAY_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    }
    await drop_schema(database_url, SCHEMA)
    await migrate(database_url, SCHEMA, MIGRATIONS)
    spawn = multiprocessing.get_context("spawn")
    stubs = [
        spawn.Process(target=_serve_stub, args=(name, port, env["ALIGNED_INTERNAL_SECRET"]), daemon=True)
        for name, port in ports.items()
    ]
    gateway = spawn.Process(target=_serve_gateway, args=(gateway_port, env), daemon=True)
    for process in (*stubs, gateway):
        process.start()
    try:
        await _wait_up(f"http://127.0.0.1:{gateway_port}/healthz")
        for port in ports.values():
            await _wait_up(f"http://127.0.0.1:{port}/openapi.json")
        limits = httpx.Limits(max_connections=CONCURRENCY * 2)
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=30, limits=limits) as gw,
            httpx.AsyncClient(timeout=30, limits=limits) as direct,
        ):
            owner = await new_brand(gw, "bench")
            identity = Identity(owner.tenant_id, owner.brand_id, owner.user_id, "owner")
            internal = signed_headers(identity)
            analytics = f"http://127.0.0.1:{ports['analytics']}/v1/analytics/summary"
            jobs_direct = f"http://127.0.0.1:{ports['publishing']}/v1/jobs"
            await _load(gw, "/v1/dashboard", owner.headers)  # warm up connections and caches
            dashboard = await _load(gw, "/v1/dashboard", owner.headers)
            slowest = await _load(direct, analytics, internal)
            through = await _load(gw, "/v1/jobs", owner.headers)
            bare = await _load(direct, jobs_direct, internal)
    finally:
        for process in (gateway, *stubs):
            process.terminate()
            process.join(10)
        await drop_schema(database_url, SCHEMA)
    measured = {
        "dashboard_p50_ms": statistics.median(dashboard),
        "dashboard_p99_ms": _p(dashboard, 99),
        "passthrough_p50_ms": statistics.median(through),
        "passthrough_p99_ms": _p(through, 99),
        "overhead_p50_ms": statistics.median(through) - statistics.median(bare),
    }
    baseline = {
        "slowest_upstream_p50_ms": statistics.median(slowest),
        "slowest_upstream_p99_ms": _p(slowest, 99),
        "direct_p50_ms": statistics.median(bare),
        "direct_p99_ms": _p(bare, 99),
    }
    ratio = measured["dashboard_p99_ms"] / baseline["slowest_upstream_p99_ms"]
    return BenchResult(
        name="gateway_fanout",
        unit="ms",
        measured=measured,
        baseline=baseline,
        ratio=ratio,
        target="p99 <= 1.5x",
        passed=ratio <= 1.5,
        notes={
            "load": f"{REQUESTS} requests, {CONCURRENCY} concurrent",
            "upstream_delays_ms": ", ".join(f"{k}={v * 1000:.0f}" for k, v in DELAYS.items()),
            "lower_is_better": "ratio = dashboard p99 / slowest upstream p99",
        },
    )


if __name__ == "__main__":

    async def _main() -> None:
        result = await run(
            os.environ.get("ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned"),
            os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        )
        print(result)

    asyncio.run(_main())
