"""SQL for the mail outbox (notifications)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aligned_common.units import Repository

Row = dict[str, Any]


class SqlNotifications(Repository):
    """The notifications table: mails queued, sent, held, folded."""

    async def enqueue(
        self,
        brand_id: uuid.UUID,
        *,
        kind: str,
        to_address: str,
        subject: str,
        body: str,
        approval_id: uuid.UUID | None,
        dedupe_key: str,
        job_id: uuid.UUID | None = None,
    ) -> uuid.UUID | None:
        """The new row's id; None when the dedupe key was used before (a redelivered event)."""
        return await self.conn.fetchval(
            """INSERT INTO notifications (id, brand_id, kind, to_address, subject, body, approval_id, dedupe_key, job_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
            uuid.uuid4(),
            brand_id,
            kind,
            to_address.lower(),
            subject,
            body,
            approval_id,
            dedupe_key,
            job_id,
        )

    async def claim_due(self, limit: int) -> list[Row]:
        # SKIP LOCKED: several sender replicas each take different rows; a row stays locked
        # (by the claiming transaction) until it is marked, so no mail goes out twice.
        records = await self.conn.fetch(
            """SELECT id, brand_id, kind, to_address, subject, body, approval_id, attempts FROM notifications
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
            limit,
        )
        # Delivered per recipient in one order, so replicas lock recipients' settings (the daily
        # limit's count) in the same order and never deadlock.
        return sorted((dict(r) for r in records), key=lambda r: (str(r["brand_id"]), r["to_address"]))

    async def mark(self, notification_id: uuid.UUID, status: str, error: str | None = None) -> None:
        await self.conn.execute(
            """UPDATE notifications SET status = $2, last_error = $3, attempts = attempts + ($2 IN ('sent', 'failed'))::int,
                      sent_at = CASE WHEN $2 = 'sent' THEN now() END
               WHERE id = $1""",
            notification_id,
            status,
            error,
        )

    async def sent_since(
        self,
        brand_id: uuid.UUID,
        address: str,
        since: datetime,
        kinds: tuple[str, ...] | None = None,
    ) -> int:
        return await self.conn.fetchval(
            """SELECT count(*) FROM notifications WHERE brand_id = $1 AND to_address = $2 AND status = 'sent'
               AND sent_at >= $3 AND ($4::text[] IS NULL OR kind = ANY($4))""",
            brand_id,
            address.lower(),
            since,
            list(kinds) if kinds else None,
        )

    async def held(self, brand_id: uuid.UUID, address: str) -> list[Row]:
        records = await self.conn.fetch(
            """SELECT id, kind, subject, body, created_at FROM notifications
               WHERE brand_id = $1 AND to_address = $2 AND status = 'held' ORDER BY created_at, id FOR UPDATE""",
            brand_id,
            address.lower(),
        )
        return [dict(r) for r in records]

    async def fold(self, ids: list[uuid.UUID], digest_id: uuid.UUID) -> None:
        await self.conn.execute(
            "UPDATE notifications SET status = 'folded', folded_into = $2 WHERE id = ANY($1)", ids, digest_id
        )

    async def pending_requests(self, brand_id: uuid.UUID, address: str) -> list[Row]:
        """The rounds still pending that this address was asked to review (one line each)."""
        records = await self.conn.fetch(
            """SELECT DISTINCT ON (a.id) a.id, a.round, a.content, a.opened_at FROM notifications n
               JOIN post_approvals a ON a.brand_id = n.brand_id AND a.id = n.approval_id
               WHERE n.brand_id = $1 AND n.to_address = $2 AND n.kind = 'approval_requested' AND a.status = 'pending'
               ORDER BY a.id""",
            brand_id,
            address.lower(),
        )
        return sorted((dict(r) for r in records), key=lambda r: r["opened_at"])

    async def to_address(self, brand_id: uuid.UUID, address: str, limit: int = 200) -> list[Row]:
        records = await self.conn.fetch(
            """SELECT id, kind, subject, status, attempts, created_at, sent_at, approval_id, job_id, folded_into
               FROM notifications WHERE brand_id = $1 AND to_address = $2 ORDER BY created_at DESC, id LIMIT $3""",
            brand_id,
            address.lower(),
            limit,
        )
        return [dict(r) for r in records]

    async def retry_later(self, notification_id: uuid.UUID, delay_s: float, error: str) -> None:
        await self.conn.execute(
            """UPDATE notifications SET attempts = attempts + 1, last_error = $3,
                      next_attempt_at = now() + make_interval(secs => $2)
               WHERE id = $1""",
            notification_id,
            delay_s,
            error,
        )

    async def of_brand(self, brand_id: uuid.UUID, approval_id: uuid.UUID | None = None) -> list[Row]:
        records = await self.conn.fetch(
            """SELECT id, kind, to_address, subject, status, attempts, last_error, created_at, sent_at, approval_id
               FROM notifications WHERE brand_id = $1 AND ($2::uuid IS NULL OR approval_id = $2) ORDER BY created_at""",
            brand_id,
            approval_id,
        )
        return [dict(r) for r in records]
