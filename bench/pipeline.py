"""pipeline and pipeline_slow: posts per second through the whole system, from due to published on
the platform to `publishing.job_published` on Kafka, against PostgreSQL's single-row commit rate
measured in the same run (8 connections, each committing one-row INSERT transactions), the
physical limit of a system whose every step is a committed transaction.

Every service and the sandbox platform run as their own processes (aligned_testing.system)
against the real Kafka and PostgreSQL. Brands and their sandbox accounts are set up through the
gateway (OAuth included). The scheduled posts are then written straight into publishing's tables,
in bulk, with their due times: creating thousands through the API would measure the API, and
what is measured here starts at the due time. From there the real path runs: the dispatcher
claims due targets -> outbox -> relay -> Kafka -> connections (attempt record, token, rate
bucket, the platform's POST) -> outbox -> Kafka -> publishing (log, job finished) -> outbox ->
Kafka: `job_published`, whose Kafka timestamp ends the post's clock.

Runs, each checked for posts lost or made twice (the platform's own count per text):
- burst (`pipeline`): PIPELINE_BURST posts all due at the same instant: posts/s and the
  due-to-published p99 of a backlog. Ratio = posts/s / single-row commits/s. Target >= 0.02.
- slow burst (`pipeline_slow`): the same with the sandbox answering every publish after 1 s
  (its `slow` fault on POST /api/v1/posts), as real platforms do (0.3-3 s). Ratio = its posts/s /
  the burst's. Target >= 0.8: concurrency inside the consumers hides the platform's latency.
- load (full mode only): ALIGNED_BENCH_PIPELINE_POSTS posts due at a steady 60 % of the burst
  throughput: due-to-published p50/p99, nothing lost or duplicated.
Each service's resident memory (RSS from /proc) is taken at idle and at its peak.

ALIGNED_BENCH_QUICK=1: 500 posts per burst and no load run (a few minutes, for development).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from aligned_common.kafka import ensure_topics
from aligned_publishing.domain.retry import idempotency_key
from aligned_testing.gateway_client import (
    BrandSetup,
    Gateway,
    SandboxControl,
    connect_sandbox,
    create_brand,
)
from aligned_testing.infra import REPO_ROOT, Infra
from aligned_testing.system import System, start_system
from bench.report import BenchResult

QUICK = os.environ.get("ALIGNED_BENCH_QUICK", "") not in ("", "0")
BRANDS = 10
BURST = int(os.environ.get("ALIGNED_BENCH_PIPELINE_BURST", "500" if QUICK else "1000"))
LOAD_POSTS = int(os.environ.get("ALIGNED_BENCH_PIPELINE_POSTS", "0" if QUICK else "4000"))
LOAD_SHARE = 0.6  # the steady rate, as a share of the burst throughput
TARGET_RATIO = 0.02  # of PostgreSQL's single-row commit rate
TARGET_SLOW_SHARE = 0.8  # of the burst's posts/s, with the platform answering in 1 s
PLATFORM_LATENCY_S = 1.0
COMMIT_CONNECTIONS = 8
COMMIT_SECONDS = 3.0 if QUICK else 5.0
LOG_DIR = REPO_ROOT / ".local" / "bench-logs"

# Production settings where the local ones shorten waits for people watching: the first metrics
# sync of a post comes 10 minutes after it, not during the measurement. The per-account token
# buckets (ours and the platform's) are opened wide: the figure is about our machinery, not about
# a platform's quota, which would otherwise cap each account at 1 post/s.
BENCH_SETTINGS = {
    "ALIGNED_ANALYTICS_FIRST_POST_SYNC_DELAY_S": "600",
    "ALIGNED_CONNECTIONS_RATE_LIMIT_CAPACITY": "1000000",
    "ALIGNED_CONNECTIONS_RATE_LIMIT_REFILL_PER_S": "1000000",
    "ALIGNED_CONNECTIONS_PLATFORM_READ_TIMEOUT_S": "20",
    "ALIGNED_PUBLISHING_PUBLISHING_TIMEOUT_S": "300",
    "ALIGNED_GATEWAY_RATE_LIMITS_ENABLED": "false",
    "ALIGNED_LOG_LEVEL": "WARNING",
}


# -- setup ------------------------------------------------------------------------------------------
async def _brands(api: Gateway, sandbox_url: str, count: int = BRANDS) -> list[BrandSetup]:
    at_once = asyncio.Semaphore(10)  # 200 onboardings at once would time out against a busy gateway

    async def one(i: int) -> BrandSetup:
        tag = uuid.uuid4().hex[:8]
        async with at_once:
            setup = await create_brand(
                api,
                tenant_id=str(uuid.uuid4()),
                name=f"bench {tag}",
                owner_id=f"bench-{tag}",
                owner_email=f"bench-{tag}@example.com",
            )
            setup.connection = await connect_sandbox(setup.owner.api, sandbox_url, f"bench-{tag}")
        return setup

    return list(await asyncio.gather(*(one(i) for i in range(count))))


@dataclass
class Running:
    system: System
    sandbox: SandboxControl
    pool: asyncpg.Pool
    brands: list[BrandSetup]
    idle_rss: dict[str, int]


@contextlib.asynccontextmanager
async def running_system(database_url: str, bootstrap: str, brands: int = BRANDS) -> AsyncIterator[Running]:
    """Every service in its own process with the bench settings, `brands` brands onboarded
    through the gateway (each with a sandbox account), the platform's quotas opened wide."""
    infra = Infra(database_url=database_url, kafka_bootstrap=bootstrap, kind="local")
    await ensure_topics(bootstrap)
    profile = (
        {"ALIGNED_PROFILE_DIR": os.environ["ALIGNED_PROFILE_DIR"]}
        if os.environ.get("ALIGNED_PROFILE_DIR")
        else {}
    )
    system = await asyncio.to_thread(start_system, infra, LOG_DIR, settings=BENCH_SETTINGS | profile)
    api = Gateway(system.url("gateway"), retry_for_s=30)
    sandbox = SandboxControl(system.url("sandbox"))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await sandbox.configure(rate_limit_capacity=1_000_000, rate_limit_refill_per_s=1_000_000)
        onboarded = await _brands(api, sandbox.base_url, brands)
        await asyncio.sleep(5)  # the services settle after start-up and onboarding
        yield Running(system, sandbox, pool, onboarded, system.rss_bytes())
    finally:
        await pool.close()
        await sandbox.aclose()
        await api.aclose()
        await asyncio.to_thread(system.stop)


async def _seed(
    pool: asyncpg.Pool, brands: list[BrandSetup], due_times: list[datetime], run: str
) -> dict[str, datetime]:
    """Scheduled one-target jobs, round-robin over the brands; job id -> due time."""
    jobs = [(uuid.uuid4(), brands[i % len(brands)], due) for i, due in enumerate(due_times)]
    targets = [(uuid.uuid4(), job_id, brand, due) for job_id, brand, due in jobs]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """INSERT INTO publishing.publishing_jobs (job_id, brand_id, tenant_id, author_id, content, status,
                                                       scheduled_at, approval_round)
               SELECT j, b, t, 'bench', $5 || ' ' || j, 'scheduled', d, 1
                 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) AS u(j, b, t, d)""",
            [j for j, _, _ in jobs],
            [uuid.UUID(b.brand_id) for _, b, _ in jobs],
            [uuid.UUID(b.tenant_id) for _, b, _ in jobs],
            [d for _, _, d in jobs],
            f"pipeline bench {run}",
        )
        await conn.execute(
            """INSERT INTO publishing.publishing_targets (target_id, job_id, brand_id, position, platform, connection_id,
                                                          idempotency_key, status, next_attempt_at, due_at)
               SELECT t, j, b, 0, 'sandbox', c, k, 'scheduled', d, d
                 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[])
                      AS u(t, j, b, c, k, d)""",
            [t for t, _, _, _ in targets],
            [j for _, j, _, _ in targets],
            [uuid.UUID(b.brand_id) for _, _, b, _ in targets],
            [uuid.UUID(b.connection_id) for _, _, b, _ in targets],
            [idempotency_key(j, t) for t, j, _, _ in targets],
            [d for _, _, _, d in targets],
        )
    return {str(j): d for j, _, d in jobs}


# -- measuring ----------------------------------------------------------------------------------------
class PublishedWatch:
    """Reads publishing's topic from its current end: the Kafka time of each wanted job_published."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.published_at: dict[str, float] = {}
        self.seen_twice = 0

    async def __aenter__(self) -> PublishedWatch:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await self.consumer.start()
        topic = "aligned.publishing.events"
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions_for(self.consumer, topic))]
        self.consumer.assign(partitions)
        for tp, offset in (await self.consumer.end_offsets(partitions)).items():
            self.consumer.seek(tp, offset)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.consumer.stop()

    async def until_all(self, wanted: set[str], timeout_s: float, sample=None) -> None:
        deadline = time.monotonic() + timeout_s
        while not wanted <= self.published_at.keys() and time.monotonic() < deadline:
            batch = await self.consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    if b"job_published" not in record.value[:200]:
                        continue
                    envelope = orjson.loads(record.value)
                    job_id = envelope["data"]["job_id"]
                    if job_id in wanted:
                        self.seen_twice += job_id in self.published_at
                        self.published_at.setdefault(job_id, record.timestamp / 1000)
            if sample:
                sample()


async def _partitions_for(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        found = consumer.partitions_for_topic(topic)
        if found:
            return found
        await consumer._client.force_metadata_update()  # no public call refreshes the cache
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")


async def _run(
    system: System,
    pool: asyncpg.Pool,
    brands: list[BrandSetup],
    due_times: list[datetime],
    name: str,
    timeout_s: float,
    rss_peak: dict[str, int] | None = None,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    async with PublishedWatch(system.infra.kafka_bootstrap) as watch:
        due = await _seed(pool, brands, due_times, f"{name} {run}")

        def sample() -> None:
            if rss_peak is not None:
                for service, rss in system.rss_bytes().items():
                    rss_peak[service] = max(rss_peak.get(service, 0), rss)

        await watch.until_all(set(due), timeout_s, sample)
    missing = set(due) - watch.published_at.keys()
    latencies = sorted(watch.published_at[j] - due[j].timestamp() for j in due if j in watch.published_at)
    first_due = min(d.timestamp() for d in due.values())
    last = max(watch.published_at.values()) if watch.published_at else first_due
    return {
        "posts": float(len(due)),
        "posts_per_s": len(watch.published_at) / max(1e-9, last - first_due),
        "due_to_last_s": last - first_due,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan"),
        "lost": float(len(missing)),
        "job_published_twice": float(watch.seen_twice),
        "texts_prefix": f"pipeline bench {name} {run}",
    }


async def _platform_duplicates(sandbox: SandboxControl, prefix: str) -> tuple[int, int]:
    """(posts made on the platform for the run, texts made more than once)."""
    by_text = {t: n for t, n in (await sandbox.counts())["by_text"].items() if t.startswith(prefix)}
    return sum(by_text.values()), sum(1 for n in by_text.values() if n > 1)


async def single_row_commit_rate(
    database_url: str, connections: int = COMMIT_CONNECTIONS, seconds: float = COMMIT_SECONDS
) -> float:
    """Commits/s of one-row INSERT transactions from `connections` connections (pgbench-like):
    what this PostgreSQL can commit at most, each commit a WAL flush."""
    pool = await asyncpg.create_pool(database_url, min_size=connections, max_size=connections)
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS public.bench_commit_rate (id bigserial PRIMARY KEY, "
            "at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
        )
        await pool.execute("TRUNCATE public.bench_commit_rate")
        stop_at = time.monotonic() + seconds
        counts = [0] * connections

        async def loop(i: int) -> None:
            async with pool.acquire() as conn:
                insert = await conn.prepare("INSERT INTO public.bench_commit_rate (payload) VALUES ($1)")
                while time.monotonic() < stop_at:
                    await insert.fetch("x" * 100)  # autocommit: one transaction each
                    counts[i] += 1

        started = time.monotonic()
        await asyncio.gather(*(loop(i) for i in range(connections)))
        return sum(counts) / (time.monotonic() - started)
    finally:
        await pool.execute("DROP TABLE IF EXISTS public.bench_commit_rate")
        await pool.close()


# -- the benchmark ---------------------------------------------------------------------------------
_measured: dict[str, list[BenchResult] | Exception] = {}


async def run(database_url: str, bootstrap: str) -> BenchResult:
    return (await measure(database_url, bootstrap))[0]


async def measure(database_url: str, bootstrap: str) -> list[BenchResult]:
    """[pipeline, pipeline_slow] from one start of the system (bench.pipeline_slow reuses it).
    A failure is kept too: pipeline_slow then fails with the same reason instead of a second try."""
    if "results" not in _measured:
        try:
            _measured["results"] = await _measure(database_url, bootstrap)
        except Exception as error:
            _measured["results"] = error
    if isinstance(_measured["results"], Exception):
        raise _measured["results"]
    return _measured["results"]


async def _measure(database_url: str, bootstrap: str) -> list[BenchResult]:
    load = None
    async with running_system(database_url, bootstrap) as running:
        system, sandbox, pool, brands, idle = (
            running.system,
            running.sandbox,
            running.pool,
            running.brands,
            running.idle_rss,
        )
        peak: dict[str, int] = {}

        commit_rate = await single_row_commit_rate(database_url)
        start_at = datetime.now(UTC) + timedelta(seconds=3)
        burst = await _run(system, pool, brands, [start_at] * BURST, "burst", timeout_s=600, rss_peak=peak)
        burst_made, burst_twice = await _platform_duplicates(sandbox, burst["texts_prefix"])

        await sandbox.add_fault(
            mode="slow",
            delay_s=PLATFORM_LATENCY_S,
            endpoint="/api/v1/posts",
            method="POST",
            count=1_000_000_000,
        )
        start_at = datetime.now(UTC) + timedelta(seconds=3)
        slow = await _run(system, pool, brands, [start_at] * BURST, "slow", timeout_s=900, rss_peak=peak)
        slow_made, slow_twice = await _platform_duplicates(sandbox, slow["texts_prefix"])
        await sandbox.clear_faults()

        rate = max(1.0, LOAD_SHARE * burst["posts_per_s"])
        if LOAD_POSTS:
            start_at = datetime.now(UTC) + timedelta(seconds=3)
            steady = [start_at + timedelta(seconds=i / rate) for i in range(LOAD_POSTS)]
            load = await _run(
                system, pool, brands, steady, "load", timeout_s=LOAD_POSTS / rate + 600, rss_peak=peak
            )
            load_made, load_twice = await _platform_duplicates(sandbox, load["texts_prefix"])

    ratio = burst["posts_per_s"] / commit_rate
    slow_share = slow["posts_per_s"] / burst["posts_per_s"]
    burst_intact = burst["lost"] == 0 and burst_twice == 0 and burst_made == BURST
    slow_intact = slow["lost"] == 0 and slow_twice == 0 and slow_made == BURST
    load_intact = load is None or (load["lost"] == 0 and load_twice == 0 and load_made == LOAD_POSTS)
    mib = 1024 * 1024
    measured = {
        "posts_per_s": burst["posts_per_s"],
        "burst_p50_ms": burst["p50_ms"],
        "burst_p99_ms": burst["p99_ms"],
        "lost": burst["lost"],
        "duplicates": float(burst_twice),
    }
    if load is not None:
        measured |= {
            "load_posts": float(LOAD_POSTS),
            "load_rate_per_s": rate,
            "load_posts_per_s": load["posts_per_s"],
            "load_p50_ms": load["p50_ms"],
            "load_p99_ms": load["p99_ms"],
            "load_lost": load["lost"],
            "load_duplicates": float(load_twice),
        }
    measured |= {f"rss_idle_mib_{name}": idle[name] / mib for name in sorted(idle)}
    measured |= {f"rss_peak_mib_{name}": peak.get(name, 0) / mib for name in sorted(idle)}
    notes = {
        "burst": f"{BURST} posts due at once over {BRANDS} brands/accounts, one target each"
        + (" (ALIGNED_BENCH_QUICK)" if QUICK else ""),
        "baseline": f"one-row INSERT transactions from {COMMIT_CONNECTIONS} connections for {COMMIT_SECONDS:.0f} s",
        "platform": f"burst: {burst_made} made, {burst_twice} twice",
        "path": "due -> dispatcher -> Kafka -> connections -> sandbox POST -> Kafka -> publishing -> job_published",
    }
    if load is not None:
        notes["load"] = (
            f"{LOAD_POSTS} posts due at {rate:.1f}/s (60% of the burst rate): {load_made} made, {load_twice} twice"
        )
    pipeline = BenchResult(
        name="pipeline",
        unit="posts/s",
        measured=measured,
        baseline={"pg_single_row_commits_per_s": commit_rate},
        ratio=ratio,
        target=f">= {TARGET_RATIO}, none lost",
        passed=ratio >= TARGET_RATIO and burst_intact and load_intact,
        notes=notes,
    )
    pipeline_slow = BenchResult(
        name="pipeline_slow",
        unit="posts/s",
        measured={
            "posts_per_s": slow["posts_per_s"],
            "p50_ms": slow["p50_ms"],
            "p99_ms": slow["p99_ms"],
            "lost": slow["lost"],
            "duplicates": float(slow_twice),
        },
        baseline={"pipeline_posts_per_s": burst["posts_per_s"]},
        ratio=slow_share,
        target=f">= {TARGET_SLOW_SHARE}, none lost",
        passed=slow_share >= TARGET_SLOW_SHARE and slow_intact,
        notes={
            "burst": f"{BURST} posts due at once, the sandbox answering every publish after {PLATFORM_LATENCY_S:.0f} s",
            "platform": f"{slow_made} made, {slow_twice} twice",
        },
    )
    return [pipeline, pipeline_slow]
