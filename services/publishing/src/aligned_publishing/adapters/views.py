"""SQL of the reads: the calendar / status list, full-text search, one job with its targets and log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

import asyncpg

from aligned_common.units import Repository
from aligned_publishing.adapters.jobs_repo import TARGETS_WITH_COMMENT, load_job, load_logs, load_targets

Record: TypeAlias = asyncpg.Record


def _tsquery(param: str) -> str:
    # Content is matched stemmed (english), tags as written (simple).
    return f"(websearch_to_tsquery('english', {param}) || websearch_to_tsquery('simple', {param}))"


class SqlViews(Repository):
    async def jobs(
        self,
        brand_id: uuid.UUID,
        *,
        deleted: bool,
        start: datetime | None,
        end: datetime | None,
        statuses: Sequence[str],
        q: str | None,
        limit: int,
        offset: int = 0,
        after: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[Record]:
        """Up to `limit` jobs: ranked by `q` from `offset` (a rank is no stable key to seek on),
        else in calendar order after the (calendar_at, job_id) `after`."""
        where = ["brand_id = $1", "deleted_at IS NOT NULL" if deleted else "deleted_at IS NULL"]
        args: list[object] = [brand_id]

        def arg(value: object) -> str:
            args.append(value)
            return f"${len(args)}"

        if start:
            where.append(f"calendar_at >= {arg(start)}")
        if end:
            where.append(f"calendar_at < {arg(end)}")
        if statuses:
            where.append(f"status = ANY({arg(list(statuses))})")
        if q:
            query = _tsquery(arg(q))
            where.append(f"search @@ {query}")
            sql = (
                f"SELECT *, ts_rank(search, {query}) AS rank FROM publishing_jobs WHERE {' AND '.join(where)} "
                f"ORDER BY rank DESC, job_id LIMIT {arg(limit)} OFFSET {arg(offset)}"
            )
        else:
            if after is not None:
                where.append(f"(calendar_at, job_id) > ({arg(after[0])}, {arg(after[1])})")
            sql = (
                f"SELECT * FROM publishing_jobs WHERE {' AND '.join(where)} "
                f"ORDER BY calendar_at, job_id LIMIT {arg(limit)}"
            )
        return await self.conn.fetch(sql, *args)

    async def targets_of(self, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Record]]:
        found: dict[uuid.UUID, list[Record]] = {job_id: [] for job_id in job_ids}
        for row in await self.conn.fetch(
            f"{TARGETS_WITH_COMMENT} WHERE t.job_id = ANY($1) ORDER BY t.job_id, t.position", job_ids
        ):
            found[row["job_id"]].append(row)
        return found

    async def job(self, job_id: uuid.UUID) -> Record | None:
        return await load_job(self.conn, job_id)

    async def targets(self, job_id: uuid.UUID) -> list[Record]:
        return await load_targets(self.conn, job_id)

    async def logs(self, job_id: uuid.UUID) -> list[Record]:
        return await load_logs(self.conn, job_id)
