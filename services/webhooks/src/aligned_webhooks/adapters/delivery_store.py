"""SQL for deliveries (one per endpoint per domain event) and their attempt log."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from aligned_common.units import Repository
from aligned_webhooks.adapters.secret_box import Sealed
from aligned_webhooks.domain.deliveries import ClaimedDelivery


class SqlDeliveries(Repository):
    """The deliveries (and their endpoints' health) repository on one unit of work's connection."""

    async def insert_many(
        self,
        brand_id: uuid.UUID,
        endpoint_ids: list[uuid.UUID],
        event_id: uuid.UUID,
        event_type: str,
        payload: bytes,
    ) -> int:
        """One delivery per endpoint; a redelivered domain event adds nothing (unique endpoint+event)."""
        rows = await self.conn.fetch(
            """INSERT INTO deliveries (id, brand_id, endpoint_id, event_id, event_type, payload)
               SELECT gen_random_uuid(), $1, endpoint_id, $3, $4, $5 FROM unnest($2::uuid[]) AS t(endpoint_id)
               ON CONFLICT (endpoint_id, event_id) DO NOTHING
               RETURNING id""",
            brand_id,
            endpoint_ids,
            event_id,
            event_type,
            payload,
        )
        return len(rows)

    async def claim_due(
        self,
        *,
        limit: int,
        per_endpoint: int,
        busy: dict[uuid.UUID, int],
        lease_s: float,
        now: datetime,
    ) -> list[ClaimedDelivery]:
        """Lock and lease up to `limit` due deliveries, at most `per_endpoint` in flight per endpoint.

        The lease (next_attempt_at moved forward) lets the HTTP call happen outside any transaction
        while other replicas skip the row; if this worker dies the delivery is due again afterwards.
        Endpoints are visited in random order so that with few free slots no endpoint always wins.
        """
        rows = await self.conn.fetch(
            """WITH busy AS (SELECT * FROM unnest($2::uuid[], $3::int[]) AS b(endpoint_id, n)),
                    picked AS (
                        SELECT d.id
                        FROM (SELECT e.id, greatest($4 - coalesce(b.n, 0), 0) AS room
                              FROM webhook_endpoints e LEFT JOIN busy b ON b.endpoint_id = e.id
                              WHERE e.enabled ORDER BY random()) e
                        CROSS JOIN LATERAL (
                            SELECT d.id FROM deliveries d
                            WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= $6::timestamptz
                            ORDER BY d.next_attempt_at
                            LIMIT e.room
                            FOR UPDATE SKIP LOCKED) d
                        LIMIT $1)
               UPDATE deliveries d SET next_attempt_at = $6::timestamptz + make_interval(secs => $5)
               FROM picked p, webhook_endpoints e
               WHERE d.id = p.id AND e.id = d.endpoint_id
               RETURNING d.id, d.brand_id, e.tenant_id, d.endpoint_id, e.url, d.event_id, d.payload, d.attempts,
                         d.round_attempts, e.secret_sealed, e.secret_key_id, e.previous_secret_sealed,
                         e.previous_secret_key_id, e.previous_secret_expires_at""",
            limit,
            list(busy),
            list(busy.values()),
            per_endpoint,
            lease_s,
            now,
        )
        return [
            ClaimedDelivery(
                id=r["id"],
                brand_id=r["brand_id"],
                tenant_id=r["tenant_id"],
                endpoint_id=r["endpoint_id"],
                url=r["url"],
                event_id=r["event_id"],
                payload=r["payload"],
                attempts=r["attempts"],
                round_attempts=r["round_attempts"],
                secret=Sealed(r["secret_key_id"], r["secret_sealed"]),
                previous_secret=Sealed(r["previous_secret_key_id"], r["previous_secret_sealed"])
                if r["previous_secret_sealed"]
                else None,
                previous_secret_expires_at=r["previous_secret_expires_at"],
            )
            for r in rows
        ]

    async def record_attempt(
        self,
        delivery: ClaimedDelivery,
        requested_at: datetime,
        status_code: int | None,
        latency_ms: float,
        excerpt: str | None,
        error: str | None,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO webhook_attempts (brand_id, delivery_id, endpoint_id, event_id, attempt_number, requested_at,
                                             status_code, latency_ms, response_excerpt, error)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            delivery.brand_id,
            delivery.id,
            delivery.endpoint_id,
            delivery.event_id,
            delivery.attempts + 1,
            requested_at,
            status_code,
            latency_ms,
            excerpt,
            error,
        )

    async def finish(
        self,
        delivery_id: uuid.UUID,
        status: str,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None:
        """status 'succeeded' or 'failed' (exhausted or the endpoint is gone): no more tries."""
        await self.conn.execute(
            """UPDATE deliveries SET status = $2, attempts = attempts + 1, round_attempts = round_attempts + 1,
                      last_status = $3, last_error = $4, finished_at = $5
               WHERE id = $1""",
            delivery_id,
            status,
            status_code,
            error,
            now,
        )

    async def retry_later(
        self,
        delivery_id: uuid.UUID,
        delay_s: float,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None:
        await self.conn.execute(
            """UPDATE deliveries SET attempts = attempts + 1, round_attempts = round_attempts + 1,
                      next_attempt_at = $5::timestamptz + make_interval(secs => $2), last_status = $3, last_error = $4
               WHERE id = $1""",
            delivery_id,
            delay_s,
            status_code,
            error,
            now,
        )

    async def replay_one(self, brand_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime) -> bool | None:
        """None: no such delivery; False: it is still pending (nothing to replay); True: queued again."""
        status = await self.conn.fetchval(
            "SELECT status FROM deliveries WHERE brand_id = $1 AND id = $2 FOR UPDATE", brand_id, delivery_id
        )
        if status is None:
            return None
        if status == "pending":
            return False
        await self.conn.execute(
            """UPDATE deliveries SET status = 'pending', round_attempts = 0, next_attempt_at = $2, finished_at = NULL
               WHERE id = $1""",
            delivery_id,
            now,
        )
        return True

    async def replay_failed_since(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, since: datetime, now: datetime
    ) -> int:
        rows = await self.conn.fetch(
            """UPDATE deliveries SET status = 'pending', round_attempts = 0, next_attempt_at = $4, finished_at = NULL
               WHERE brand_id = $1 AND endpoint_id = $2 AND status = 'failed' AND created_at >= $3
               RETURNING id""",
            brand_id,
            endpoint_id,
            since,
            now,
        )
        return len(rows)

    async def list_for_endpoint(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, status: str | None, limit: int
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            """SELECT id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, last_status, last_error,
                      created_at, finished_at
               FROM deliveries WHERE brand_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)
               ORDER BY created_at DESC, id LIMIT $4""",
            brand_id,
            endpoint_id,
            status,
            limit,
        )

    async def attempts_of(self, brand_id: uuid.UUID, delivery_id: uuid.UUID) -> list[asyncpg.Record] | None:
        exists = await self.conn.fetchval(
            "SELECT true FROM deliveries WHERE brand_id = $1 AND id = $2", brand_id, delivery_id
        )
        if not exists:
            return None
        return await self.conn.fetch(
            """SELECT attempt_number, requested_at, status_code, latency_ms, response_excerpt, error
               FROM webhook_attempts WHERE brand_id = $1 AND delivery_id = $2 ORDER BY attempt_number""",
            brand_id,
            delivery_id,
        )

    async def mark_endpoint_healthy(self, endpoint_id: uuid.UUID) -> None:
        await self.conn.execute(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
            endpoint_id,
        )

    async def mark_endpoint_failing(self, endpoint_id: uuid.UUID, now: datetime) -> datetime:
        """When the endpoint's current run of failures began."""
        return await self.conn.fetchval(
            """UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1
               RETURNING failing_since""",
            endpoint_id,
            now,
        )

    async def disable_endpoint(self, endpoint_id: uuid.UUID, reason: str, now: datetime) -> str | None:
        """The endpoint's URL if this call disabled it; None if it was disabled already."""
        return await self.conn.fetchval(
            """UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = $3, updated_at = $3
               WHERE id = $1 AND enabled RETURNING url""",
            endpoint_id,
            reason,
            now,
        )
