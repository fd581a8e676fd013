"""SQL for connection holds: a broken connection's targets held in every job, then resumed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeAlias

import asyncpg

from aligned_common.units import Repository
from aligned_publishing.domain.status import TargetStatus

Record: TypeAlias = asyncpg.Record
# The targets a hold stops: due, or requested and not answered yet.
HOLDABLE = [TargetStatus.SCHEDULED.value, TargetStatus.PUBLISHING.value]


class SqlHolds(Repository):
    async def put(self, brand_id: uuid.UUID, connection_id: uuid.UUID, reason: str, now: datetime) -> None:
        await self.conn.execute(
            """INSERT INTO connection_holds (brand_id, connection_id, reason, since) VALUES ($1, $2, $3, $4)
               ON CONFLICT (connection_id) DO UPDATE SET reason = excluded.reason""",
            brand_id,
            connection_id,
            reason,
            now,
        )

    async def lift(self, connection_id: uuid.UUID) -> None:
        await self.conn.execute("DELETE FROM connection_holds WHERE connection_id = $1", connection_id)

    async def lock_jobs_of(self, connection_id: uuid.UUID, statuses: list[TargetStatus]) -> list[Record]:
        """The jobs with a target of this connection in one of these statuses, locked. Lock
        order: jobs (in id order) before their targets, like every other writer."""
        return await self.conn.fetch(
            """SELECT * FROM publishing_jobs WHERE job_id IN (
                   SELECT job_id FROM publishing_targets WHERE connection_id = $1 AND status = ANY($2))
               ORDER BY job_id FOR UPDATE""",
            connection_id,
            [s.value for s in statuses],
        )

    async def lock_targets(self, connection_id: uuid.UUID, status: TargetStatus) -> list[Record]:
        return await self.conn.fetch(
            "SELECT * FROM publishing_targets WHERE connection_id = $1 AND status = $2 FOR UPDATE",
            connection_id,
            status.value,
        )

    async def hold_targets(self, connection_id: uuid.UUID, reason: str, now: datetime) -> None:
        await self.conn.execute(
            """UPDATE publishing_targets SET status = $4, held_reason = $2, next_attempt_at = NULL, updated_at = $3
                WHERE connection_id = $1 AND status = ANY($5)""",
            connection_id,
            reason,
            now,
            TargetStatus.HELD.value,
            HOLDABLE,
        )
