"""SQL for the mail outbox (notifications)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

Row = dict[str, Any]


async def enqueue(conn: asyncpg.Connection, brand_id: uuid.UUID, *, kind: str, to_address: str, subject: str,
                  body: str, approval_id: uuid.UUID | None, dedupe_key: str) -> None:
    await conn.execute(
        """INSERT INTO notifications (id, brand_id, kind, to_address, subject, body, approval_id, dedupe_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (dedupe_key) DO NOTHING""",
        uuid.uuid4(), brand_id, kind, to_address.lower(), subject, body, approval_id, dedupe_key,
    )


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[Row]:
    # SKIP LOCKED: several sender replicas each take different rows; a row stays locked
    # (by the claiming transaction) until it is marked, so no mail goes out twice.
    records = await conn.fetch(
        """SELECT id, brand_id, kind, to_address, subject, body, approval_id, attempts FROM notifications
           WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [dict(r) for r in records]


async def mark(conn: asyncpg.Connection, notification_id: uuid.UUID, status: str, error: str | None = None) -> None:
    await conn.execute(
        """UPDATE notifications SET status = $2, last_error = $3, attempts = attempts + ($2 <> 'suppressed')::int,
                  sent_at = CASE WHEN $2 = 'sent' THEN now() END
           WHERE id = $1""",
        notification_id, status, error,
    )


async def retry_later(conn: asyncpg.Connection, notification_id: uuid.UUID, delay_s: float, error: str) -> None:
    await conn.execute(
        """UPDATE notifications SET attempts = attempts + 1, last_error = $3,
                  next_attempt_at = now() + make_interval(secs => $2)
           WHERE id = $1""",
        notification_id, delay_s, error,
    )


async def of_brand(conn: asyncpg.Connection, brand_id: uuid.UUID, approval_id: uuid.UUID | None = None) -> list[Row]:
    records = await conn.fetch(
        """SELECT id, kind, to_address, subject, status, attempts, last_error, created_at, sent_at, approval_id
           FROM notifications WHERE brand_id = $1 AND ($2::uuid IS NULL OR approval_id = $2) ORDER BY created_at""",
        brand_id, approval_id,
    )
    return [dict(r) for r in records]
