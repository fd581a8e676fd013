"""csv_import: a CSV file of 10,000 posts -> committed draft jobs, against a bare COPY of the same rows.

The import is publishing's handler (service_layer/imports.py) on the real database: it parses
the file, checks every row (the brand's connections, content fit, the time), assesses the gate,
claims each row (its idempotency) and writes jobs and targets chunk by chunk under row-level
security. Baseline: COPY of exactly the job and target rows it wrote, into bare tables of the
same columns (no index, no trigger, no row-level security), in the same run. Each round is a
fresh brand; the median round counts. ALIGNED_BENCH_QUICK=1: 1,000 rows.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

from aligned_common.app import Database
from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_common.known_connections import put as put_connection
from aligned_common.migrations import migrate
from aligned_publishing.adapters.imports_repo import JOB_COLUMNS
from aligned_publishing.bootstrap import MIGRATIONS, make_deps
from aligned_publishing.config import Settings
from aligned_publishing.service_layer.imports import import_csv
from bench.report import BenchResult

SCHEMA = "bench_csv_import"
QUICK = os.environ.get("ALIGNED_BENCH_QUICK", "") not in ("", "0")
ROWS = int(os.environ.get("ALIGNED_BENCH_IMPORT_ROWS", "1000" if QUICK else "10000"))
ROUNDS = 1 if QUICK else 5
TARGET_COLUMNS = (
    "target_id",
    "job_id",
    "brand_id",
    "position",
    "platform",
    "connection_id",
    "text_variant",
    "idempotency_key",
)


def _file(connections: list[uuid.UUID], rows: int) -> bytes:
    start = datetime.now(UTC).replace(microsecond=0, tzinfo=None) + timedelta(days=1)
    lines = ["text,targets,text:mastodon,scheduled_at,time_zone,tags,first_comment"]
    for i in range(rows):
        targets = ";".join(str(c) for c in connections[: 1 + i % len(connections)])
        at = (start + timedelta(minutes=15 * i)).isoformat()
        lines.append(
            f'"Post {i}: spring launch, see https://example.com/p/{i}",{targets},"Toot {i}",{at},Europe/Berlin,spring;bulk,"first {i}"'
        )
    return ("\n".join(lines) + "\n").encode()


async def _round(database: Database, deps, rows: int) -> tuple[float, float]:
    brand, tenant = uuid.uuid4(), uuid.uuid4()
    async with UnitOfWork(database.pool, SCHEMA, brand_id=brand) as uow:
        connections = [uuid.uuid4() for _ in range(2)]
        for connection_id, platform in zip(connections, ("sandbox", "mastodon"), strict=True):
            await put_connection(uow.conn, brand, connection_id, platform, "active", datetime.now(UTC))
    data = _file(connections, rows)
    identity = Identity(tenant, brand, "bench-editor", "editor")

    started = time.perf_counter()
    report = await import_csv(deps, identity, data, dry_run=False)
    imported = time.perf_counter() - started
    assert report.count("created") == rows, f"created {report.count('created')} of {rows}"

    async with database.pool.acquire() as conn:
        jobs = await conn.fetch(
            f"SELECT {', '.join(JOB_COLUMNS)} FROM {SCHEMA}.publishing_jobs WHERE brand_id = $1", brand
        )
        targets = await conn.fetch(
            f"SELECT {', '.join(TARGET_COLUMNS)} FROM {SCHEMA}.publishing_targets WHERE brand_id = $1", brand
        )
        assert len(jobs) == rows
        async with conn.transaction():
            await conn.execute(
                f"CREATE TEMP TABLE bare_jobs AS SELECT {', '.join(JOB_COLUMNS)} FROM {SCHEMA}.publishing_jobs LIMIT 0"
            )
            await conn.execute(
                f"CREATE TEMP TABLE bare_targets AS SELECT {', '.join(TARGET_COLUMNS)} FROM {SCHEMA}.publishing_targets LIMIT 0"
            )
        started = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("bare_jobs", records=jobs, columns=list(JOB_COLUMNS))
            await conn.copy_records_to_table("bare_targets", records=targets, columns=list(TARGET_COLUMNS))
        copied = time.perf_counter() - started
        await conn.execute("DROP TABLE bare_jobs, bare_targets")
    return rows / imported, rows / copied


async def run(database_url: str, bootstrap: str) -> BenchResult:
    # The import writes no event (its jobs are drafts): nothing reaches Kafka, `bootstrap` is unused.
    await migrate(database_url, SCHEMA, MIGRATIONS)
    settings = Settings(database_url=database_url, pool_min_size=2, pool_max_size=4)
    database = Database(settings, SCHEMA)
    await database.open()
    try:
        deps = make_deps(settings, database)
        rounds = sorted(
            [await _round(database, deps, ROWS) for _ in range(ROUNDS)], key=lambda r: r[0] / r[1]
        )
        await database.pool.execute(f"TRUNCATE {SCHEMA}.publishing_jobs, {SCHEMA}.import_rows CASCADE")
    finally:
        await database.close()
    rate, bare = rounds[len(rounds) // 2]
    ratio = rate / bare
    return BenchResult(
        name="csv_import",
        unit="rows/s",
        measured={"rows_per_s": rate, "rows": float(ROWS)},
        baseline={"bare_copy_rows_per_s": bare},
        ratio=ratio,
        target=">= 0.05",
        passed=ratio >= 0.05,
        notes={
            "shape": "1-2 targets per row, a per-platform text, a time in a zone, tags, a first comment",
            "baseline": "COPY of the same job and target rows into bare tables",
            "rounds": ", ".join(f"{r / b:.3f}" for r, b in rounds),
        },
    )
