"""Posts published through Aligned (their posting time and first sync)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from aligned_common.events.publishing import TargetRef
from aligned_common.units import Repository


class SqlPosts(Repository):
    """Published posts analytics tracks, and the jobs' targets it remembers."""

    async def remember_targets(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, targets: list[TargetRef]
    ) -> None:
        await self.conn.executemany(
            # A new round of the job (job_created again) may change what the target posts.
            """INSERT INTO job_targets (target_id, brand_id, job_id, connection_id, platform, text, media_count)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (target_id) DO UPDATE SET text = excluded.text, media_count = excluded.media_count""",
            [
                (t.target_id, brand_id, job_id, t.connection_id, t.platform, t.text, len(t.media_ids))
                for t in targets
            ],
        )

    async def connection_for_target(
        self, brand_id: uuid.UUID, target_id: uuid.UUID, platform: str
    ) -> uuid.UUID | None:
        """The target's connection; failing that, the brand's only active account on that platform."""
        return await self.conn.fetchval(
            """SELECT coalesce(
                   (SELECT connection_id FROM job_targets WHERE target_id = $2 AND brand_id = $1),
                   (SELECT min(connection_id::text)::uuid FROM accounts
                     WHERE brand_id = $1 AND platform = $3 AND status = 'active'
                    HAVING count(*) = 1))""",
            brand_id,
            target_id,
            platform,
        )

    async def add_post(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        remote_id: str,
        platform: str,
        job_id: uuid.UUID,
        published_at: datetime,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO posts (brand_id, connection_id, remote_id, platform, job_id, published_at)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (connection_id, remote_id) DO NOTHING""",
            brand_id,
            connection_id,
            remote_id,
            platform,
            job_id,
            published_at,
        )

    async def claim_posts_due_first_sync(self, delay_s: float, limit: int) -> list[asyncpg.Record]:
        """New posts whose first sync is due, grouped per active account (paused accounts wait)."""
        return await self.conn.fetch(
            """WITH due AS (
                   SELECT p.connection_id, p.remote_id FROM posts p
                     JOIN accounts a ON a.connection_id = p.connection_id AND a.status = 'active'
                    WHERE p.first_sync_requested_at IS NULL
                      AND p.published_at <= now() - make_interval(secs => $1)
                    ORDER BY p.published_at
                    LIMIT $2
                    FOR UPDATE OF p SKIP LOCKED),
               claimed AS (
                   UPDATE posts p SET first_sync_requested_at = now()
                     FROM due WHERE p.connection_id = due.connection_id AND p.remote_id = due.remote_id
                   RETURNING p.connection_id, p.remote_id)
               SELECT a.connection_id, a.brand_id, a.tenant_id, a.platform, array_agg(c.remote_id ORDER BY c.remote_id) AS remote_ids
                 FROM claimed c JOIN accounts a USING (connection_id)
                GROUP BY a.connection_id, a.brand_id, a.tenant_id, a.platform""",
            delay_s,
            limit,
        )

    async def tracked_remote_ids(self, connection_id: uuid.UUID, days: int) -> list[str]:
        return await self.conn.fetchval(
            """SELECT coalesce(array_agg(remote_id ORDER BY remote_id), '{}') FROM posts
                WHERE connection_id = $1 AND published_at >= now() - make_interval(days => $2)""",
            connection_id,
            days,
        )
