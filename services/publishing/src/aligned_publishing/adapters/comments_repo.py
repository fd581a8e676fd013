"""SQL of first comments (service_layer/comments.py says what they do and why so).

A comment is read together with what its attempt needs: its target's post (the remote id it
replies to), platform and connection, and its job's tenant. Lock order as everywhere: a caller
on the outcome path already holds the job and its targets; the comment row comes last.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_common.units import Repository

_WITH_POST = """SELECT c.*, t.platform, t.connection_id, t.remote_id AS post_remote_id, j.tenant_id, j.max_retries
                  FROM publishing_comments c
                  JOIN publishing_targets t ON t.target_id = c.target_id
                  JOIN publishing_jobs j ON j.job_id = c.job_id"""


class SqlComments(Repository):
    async def of_target(self, target_id: uuid.UUID) -> asyncpg.Record | None:
        """The target's comment (locked), or None when it has none."""
        return await self.conn.fetchrow(f"{_WITH_POST} WHERE c.target_id = $1 FOR UPDATE OF c", target_id)

    async def by_key(self, idempotency_key: str) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            f"{_WITH_POST} WHERE c.idempotency_key = $1 FOR UPDATE OF c", idempotency_key
        )

    async def claim_due(self, now: datetime, limit: int) -> list[asyncpg.Record]:
        """Due comments of every brand (a retry, or a re-check after no answer), locked; a row
        another replica holds is skipped, so each is requested once."""
        return await self.conn.fetch(
            f"""{_WITH_POST}
                 WHERE c.status IN ('scheduled', 'publishing') AND c.next_attempt_at <= $1
                 ORDER BY c.next_attempt_at LIMIT $2
                   FOR UPDATE OF c SKIP LOCKED""",
            now,
            limit,
        )

    async def update(self, target_id: uuid.UUID, now: datetime, **changes: Any) -> None:
        columns = list(changes)
        assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(columns, start=3))
        await self.conn.execute(
            f"UPDATE publishing_comments SET {assignments}, updated_at = $2 WHERE target_id = $1",
            target_id,
            now,
            *changes.values(),
        )
