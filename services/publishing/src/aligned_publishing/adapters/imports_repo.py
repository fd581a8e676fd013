"""SQL for CSV imports: the rows a file's import claimed, and its jobs written in bulk.

An import writes thousands of jobs: one statement per table for a chunk of rows (arrays,
unnested), not a statement per job. COPY would be faster still, but PostgreSQL refuses COPY
FROM into a table under row-level security, which every brand table is (ADR 0004).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from aligned_common.units import Repository
from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.job import Job
from aligned_publishing.domain.retry import idempotency_key
from aligned_publishing.service_layer.ports import ImportedRow

# Every column of a new job (Job.row()) and its type; the two arrays travel as array literals
# in text (unnest cannot take an array of arrays of different lengths), cast back per row.
JOB_COLUMNS = {
    "job_id": "uuid",
    "brand_id": "uuid",
    "tenant_id": "uuid",
    "author_id": "text",
    "content": "text",
    "tags": "text",
    "media_ids": "text",
    "scheduled_at": "timestamptz",
    "time_zone": "text",
    "requires_approval": "boolean",
    "content_hash": "text",
    "approval_required": "boolean",
    "approval_reason": "text",
    "max_retries": "integer",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "status": "text",
    "status_reason": "text",
    "approval_round": "integer",
    "approved_round": "integer",
    "round_hash": "text",
    "approved_hash": "text",
    "approval_waived_by": "text",
    "approval_waived_at": "timestamptz",
    "retry_count": "integer",
    "last_error": "text",
    "version": "integer",
    "deleted_at": "timestamptz",
}
_ARRAY_OF = {"tags": "text", "media_ids": "uuid"}


def _select(name: str, kind: str) -> str:
    if name in _ARRAY_OF:
        return f"x.{name}::{_ARRAY_OF[name]}[]"
    return f"x.{name}"


INSERT_JOBS = (
    f"INSERT INTO publishing_jobs ({', '.join(JOB_COLUMNS)})"
    f" SELECT {', '.join(_select(n, k) for n, k in JOB_COLUMNS.items())}"
    f" FROM unnest({', '.join(f'${i}::{k}[]' for i, k in enumerate(JOB_COLUMNS.values(), start=1))})"
    f" AS x({', '.join(JOB_COLUMNS)})"
)


def _literal(values: Sequence[object]) -> str:
    """A PostgreSQL array literal: each element quoted, its quotes and backslashes escaped."""
    quoted = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _cell(name: str, value: Any) -> object:
    if name in _ARRAY_OF:
        return _literal(value)
    return value.value if isinstance(value, Enum) else value


class SqlImports(Repository):
    """service_layer.ports.Imports over the unit of work's connection."""

    async def claim(
        self, brand_id: uuid.UUID, file_hash: str, rows: Sequence[ImportedRow], now: datetime
    ) -> set[int]:
        claimed = await self.conn.fetch(
            """INSERT INTO import_rows (brand_id, file_hash, row_no, job_id, first_comment, imported_at)
               SELECT $1, $2, x.row_no, x.job_id, x.first_comment, $6
                 FROM unnest($3::integer[], $4::uuid[], $5::text[]) AS x(row_no, job_id, first_comment)
               ON CONFLICT (brand_id, file_hash, row_no) DO NOTHING
               RETURNING row_no""",
            brand_id,
            file_hash,
            [r.row for r in rows],
            [r.job_id for r in rows],
            [r.first_comment for r in rows],
            now,
        )
        return {r["row_no"] for r in claimed}

    async def add_jobs(
        self, jobs: Sequence[Job], targets: Mapping[uuid.UUID, Sequence[TargetDraft]], now: datetime
    ) -> None:
        """Targets take the job's media and alt texts (an imported row has no per-account media)."""
        if not jobs:
            return
        rows = [job.row() for job in jobs]
        await self.conn.execute(INSERT_JOBS, *([_cell(c, r[c]) for r in rows] for c in JOB_COLUMNS))
        for job in jobs:
            job.changes.clear()
        columns: list[list[object]] = [[] for _ in range(8)]
        for job in jobs:
            for position, target in enumerate(targets[job.job_id]):
                target_id = uuid.uuid4()
                values = (
                    target_id,
                    job.job_id,
                    job.brand_id,
                    position,
                    target.platform.lower(),
                    target.connection_id,
                    target.text,
                    idempotency_key(job.job_id, target_id),
                )
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
        await self.conn.execute(
            """INSERT INTO publishing_targets (target_id, job_id, brand_id, position, platform, connection_id,
                                               text_variant, idempotency_key)
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::integer[], $5::text[], $6::uuid[],
                                    $7::text[], $8::text[])""",
            *columns,
        )
        usage = [(m, job.job_id, job.brand_id) for job in jobs for m in dict.fromkeys(job.media_ids)]
        if usage:
            media, job_ids, brands = (list(c) for c in zip(*usage, strict=True))
            await self.conn.execute(
                """WITH used AS (
                       INSERT INTO media_usage (media_id, job_id, brand_id)
                       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[])
                       RETURNING media_id, job_id, brand_id)
                   INSERT INTO media_usage_logs (media_id, job_id, brand_id, action, at)
                   SELECT media_id, job_id, brand_id, 'attached', $4 FROM used""",
                media,
                job_ids,
                brands,
                now,
            )
