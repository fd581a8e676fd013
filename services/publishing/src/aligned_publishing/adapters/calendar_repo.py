"""SQL for calendar feeds and the jobs a feed shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aligned_common.units import Repository
from aligned_publishing.domain.calendar import FeedJob, FeedScope
from aligned_publishing.domain.status import JobStatus

# What each feed shows: a brand feed every post with a time that is not deleted; an approvals
# feed the posts waiting for a decision.
_STATUSES = {
    FeedScope.BRAND: [s.value for s in JobStatus],
    FeedScope.APPROVALS: [JobStatus.PENDING_APPROVAL.value],
}


class SqlCalendarFeeds(Repository):
    """service_layer.ports.CalendarFeeds over the unit of work's connection."""

    async def add(self, feed: dict[str, Any]) -> None:
        await self.conn.execute(
            """INSERT INTO calendar_feeds (feed_id, brand_id, token_hash, scope, user_id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            feed["feed_id"],
            feed["brand_id"],
            feed["token_hash"],
            feed["scope"],
            feed["user_id"],
            feed["created_at"],
        )

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            """SELECT feed_id, brand_id, scope, user_id, created_at, revoked_at FROM calendar_feeds
                WHERE brand_id = $1 ORDER BY created_at, feed_id""",
            brand_id,
        )
        return [dict(r) for r in rows]

    async def revoke(self, brand_id: uuid.UUID, feed_id: uuid.UUID, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE calendar_feeds SET revoked_at = $3 WHERE brand_id = $1 AND feed_id = $2 AND revoked_at IS NULL",
            brand_id,
            feed_id,
            now,
        )

    async def by_token(self, token_hash: str) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            """SELECT feed_id, brand_id, scope, user_id, created_at, revoked_at FROM calendar_feeds
                WHERE token_hash = $1""",
            token_hash,
        )
        return dict(row) if row is not None else None

    async def jobs(
        self, brand_id: uuid.UUID, scope: FeedScope, start: datetime, end: datetime, limit: int
    ) -> list[FeedJob]:
        rows = await self.conn.fetch(
            """SELECT j.job_id, j.content, j.status, j.scheduled_at, j.updated_at, j.version,
                      array(SELECT t.platform FROM publishing_targets t WHERE t.job_id = j.job_id
                             ORDER BY t.position) AS platforms
                 FROM publishing_jobs j
                WHERE j.brand_id = $1 AND j.deleted_at IS NULL AND j.scheduled_at >= $2
                  AND j.scheduled_at < $3 AND j.status = ANY($4)
                ORDER BY j.scheduled_at, j.job_id LIMIT $5""",
            brand_id,
            start,
            end,
            _STATUSES[scope],
            limit,
        )
        return [
            FeedJob(
                job_id=r["job_id"],
                content=r["content"],
                status=JobStatus(r["status"]),
                scheduled_at=r["scheduled_at"],
                updated_at=r["updated_at"],
                version=r["version"],
                platforms=tuple(r["platforms"]),
            )
            for r in rows
        ]
