"""SQL for the jobs this service knows of (from publishing's job_created / job_updated events)."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_common.units import Repository


class SqlJobs(Repository):
    """The jobs we know of (their text and author)."""

    async def remember(
        self,
        brand_id: uuid.UUID,
        job_id: uuid.UUID,
        *,
        content: str | None = None,
        author_id: str | None = None,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO known_jobs (brand_id, job_id, content, author_id) VALUES ($1, $2, $3, $4)
               ON CONFLICT (brand_id, job_id) DO UPDATE SET content = coalesce(EXCLUDED.content, known_jobs.content),
                   author_id = coalesce(EXCLUDED.author_id, known_jobs.author_id)""",
            brand_id,
            job_id,
            content,
            author_id,
        )

    async def known(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval(
                "SELECT true FROM known_jobs WHERE brand_id = $1 AND job_id = $2", brand_id, job_id
            )
        )

    async def get(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
        record = await self.conn.fetchrow(
            "SELECT job_id, content, author_id FROM known_jobs WHERE brand_id = $1 AND job_id = $2",
            brand_id,
            job_id,
        )
        return dict(record) if record else None
