"""SQL for feed subscriptions and their entries (service_layer/feeds.py, feed_polling.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aligned_common.units import Repository

COLUMNS = (
    "feed_id",
    "brand_id",
    "tenant_id",
    "created_by",
    "url",
    "connection_ids",
    "template",
    "mode",
    "schedule_after_s",
    "interval_s",
    "paused",
    "post_existing",
    "etag",
    "last_modified",
    "consecutive_failures",
    "last_error",
    "last_error_at",
    "last_polled_at",
    "last_success_at",
    "next_poll_at",
    "created_at",
    "updated_at",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM feed_subscriptions"
# What a poll or an edit may change (the names are interpolated into SQL: only these).
UPDATABLE = frozenset(COLUMNS) - {"feed_id", "brand_id", "tenant_id", "created_by", "created_at"}
ENTRY_COLUMNS = ("feed_id", "entry_key", "brand_id", "title", "link", "job_id", "skipped", "seen_at")


class SqlFeeds(Repository):
    """service_layer.ports.FeedSubscriptions over the unit of work's connection."""

    async def add(self, feed: dict[str, Any]) -> None:
        await self.conn.execute(
            f"INSERT INTO feed_subscriptions ({', '.join(COLUMNS)})"
            f" VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})",
            *(feed[c] for c in COLUMNS),
        )

    async def get(
        self, brand_id: uuid.UUID, feed_id: uuid.UUID, *, for_update: bool = False
    ) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            f"{_SELECT} WHERE brand_id = $1 AND feed_id = $2{' FOR UPDATE' if for_update else ''}",
            brand_id,
            feed_id,
        )
        return dict(row) if row is not None else None

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(f"{_SELECT} WHERE brand_id = $1 ORDER BY created_at, feed_id", brand_id)
        return [dict(r) for r in rows]

    async def update(self, feed_id: uuid.UUID, changes: Mapping[str, Any]) -> None:
        names = [n for n in changes if n in UPDATABLE]
        assert len(names) == len(changes), f"not updatable: {set(changes) - UPDATABLE}"
        if not names:
            return
        assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
        await self.conn.execute(
            f"UPDATE feed_subscriptions SET {assignments} WHERE feed_id = $1",
            feed_id,
            *(changes[n] for n in names),
        )

    async def delete(self, brand_id: uuid.UUID, feed_id: uuid.UUID) -> bool:
        done = await self.conn.execute(
            "DELETE FROM feed_subscriptions WHERE brand_id = $1 AND feed_id = $2", brand_id, feed_id
        )
        return done != "DELETE 0"

    async def record_entry(self, entry: dict[str, Any]) -> bool:
        recorded = await self.conn.fetchval(
            f"INSERT INTO feed_entries ({', '.join(ENTRY_COLUMNS)})"
            f" VALUES ({', '.join(f'${i}' for i in range(1, len(ENTRY_COLUMNS) + 1))})"
            " ON CONFLICT (feed_id, entry_key) DO NOTHING RETURNING true",
            *(entry[c] for c in ENTRY_COLUMNS),
        )
        return bool(recorded)

    async def skip_entry(self, feed_id: uuid.UUID, entry_key: str, reason: str) -> None:
        await self.conn.execute(
            "UPDATE feed_entries SET job_id = NULL, skipped = $3 WHERE feed_id = $1 AND entry_key = $2",
            feed_id,
            entry_key,
            reason,
        )

    async def entries(self, brand_id: uuid.UUID, feed_id: uuid.UUID, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            """SELECT e.feed_id, e.entry_key, e.title, e.link, e.job_id, e.skipped, e.seen_at,
                      j.status AS job_status
                 FROM feed_entries e
                 LEFT JOIN publishing_jobs j ON j.job_id = e.job_id AND j.deleted_at IS NULL
                WHERE e.brand_id = $1 AND e.feed_id = $2
                ORDER BY e.seen_at DESC, e.entry_key LIMIT $3""",
            brand_id,
            feed_id,
            limit,
        )
        return [dict(r) for r in rows]

    async def claim_due(self, now: datetime, limit: int, lease_until: datetime) -> list[dict[str, Any]]:
        """Due subscriptions of every brand (the worker's unit of work), leased: next_poll_at moves
        to lease_until in the claiming transaction, and a row another replica is claiming is
        skipped (SKIP LOCKED), so no two replicas poll one feed at once. The poll sets the real
        next time when it ends; one that dies leaves the feed due again after the lease."""
        rows = await self.conn.fetch(
            """WITH due AS (
                   SELECT feed_id FROM feed_subscriptions
                    WHERE NOT paused AND next_poll_at <= $1
                    ORDER BY next_poll_at LIMIT $2
                      FOR UPDATE SKIP LOCKED)
               UPDATE feed_subscriptions f SET next_poll_at = $3
                 FROM due WHERE f.feed_id = due.feed_id
               RETURNING f.feed_id, f.brand_id, f.url, f.etag, f.last_modified""",
            now,
            limit,
            lease_until,
        )
        return [dict(r) for r in rows]
