"""analytics_sync_logs: one row per sync, from request to its outcome."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_common.units import Repository


class SqlSyncLogs(Repository):
    """The log of every sync asked for, started and finished."""

    async def open_sync(
        self,
        *,
        sync_id: uuid.UUID,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        trigger: str,
        remote_ids: list[str],
    ) -> None:
        await self.conn.execute(
            """INSERT INTO analytics_sync_logs (sync_id, brand_id, connection_id, platform, trigger, remote_ids, status)
               VALUES ($1, $2, $3, $4, $5, $6, 'requested')""",
            sync_id,
            brand_id,
            connection_id,
            platform,
            trigger,
            remote_ids,
        )

    async def start_sync(
        self,
        *,
        sync_id: uuid.UUID,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
    ) -> None:
        """Results arrived: mark the sync started (a sync connections began on its own gets a row too)."""
        await self.conn.execute(
            """INSERT INTO analytics_sync_logs (sync_id, brand_id, connection_id, platform, trigger, status, started_at)
               VALUES ($1, $2, $3, $4, 'external', 'requested', now())
               ON CONFLICT (sync_id) DO UPDATE SET started_at = coalesce(analytics_sync_logs.started_at, now())""",
            sync_id,
            brand_id,
            connection_id,
            platform,
        )

    async def finish_sync(
        self, sync_id: uuid.UUID, *, status: str, rows: int = 0, error: str | None = None
    ) -> None:
        await self.conn.execute(
            """UPDATE analytics_sync_logs
                  SET status = $2, rows = rows + $3, error = $4, finished_at = now()
                WHERE sync_id = $1""",
            sync_id,
            status,
            rows,
            error,
        )

    async def time_out_stale(self, timeout_s: float) -> int:
        result = await self.conn.execute(
            """UPDATE analytics_sync_logs
                  SET status = 'timed_out', finished_at = now(), error = 'no answer from connections in time'
                WHERE status = 'requested' AND started_at IS NULL
                  AND requested_at < now() - make_interval(secs => $1)""",
            timeout_s,
        )
        return int(result.split()[-1])

    async def page_of_syncs(
        self,
        brand_id: uuid.UUID,
        after: list[Any] | None,
        limit: int,
        connection_id: uuid.UUID | None,
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            """SELECT sync_id, connection_id, platform, trigger, remote_ids, status, requested_at,
                      started_at, finished_at, rows, error
                 FROM analytics_sync_logs
                WHERE brand_id = $1
                  AND ($4::uuid IS NULL OR connection_id = $4)
                  AND ($2::timestamptz IS NULL OR (requested_at, sync_id) < ($2::timestamptz, $3::uuid))
                ORDER BY requested_at DESC, sync_id DESC
                LIMIT $5""",
            brand_id,
            after[0] if after else None,
            after[1] if after else None,
            connection_id,
            limit,
        )
