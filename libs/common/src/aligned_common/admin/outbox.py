"""Outbox status per service schema: how much waits, since when, and what keeps failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from aligned_common.db import UnitOfWork


@dataclass(frozen=True)
class OutboxStatus:
    schema: str
    pending: int
    failing: int  # pending rows the relay tried and could not publish
    oldest_pending_at: datetime | None
    lag_seconds: float  # age of the oldest unpublished event: 0 when all is published
    last_published_at: datetime | None
    last_error: str | None

    @property
    def healthy(self) -> bool:
        return self.failing == 0 and self.lag_seconds < 60


async def outbox_status(pool: asyncpg.Pool, schema: str) -> OutboxStatus:
    # An operator reads every brand's rows: role "owner" keeps the login role (no brand scope).
    async with UnitOfWork(pool, schema, role="owner") as uow:
        row = await uow.conn.fetchrow(
            """SELECT count(*) FILTER (WHERE published_at IS NULL)                  AS pending,
                      count(*) FILTER (WHERE published_at IS NULL AND attempts > 0) AS failing,
                      min(created_at) FILTER (WHERE published_at IS NULL)           AS oldest_pending_at,
                      extract(epoch FROM clock_timestamp()
                              - min(created_at) FILTER (WHERE published_at IS NULL)) AS lag_seconds
               FROM outbox WHERE published_at IS NULL"""
        )
        last_published_at = await uow.conn.fetchval("SELECT max(published_at) FROM outbox")
        last_error = await uow.conn.fetchval(
            "SELECT last_error FROM outbox WHERE published_at IS NULL AND last_error IS NOT NULL ORDER BY seq DESC LIMIT 1"
        )
    return OutboxStatus(
        schema=schema,
        pending=row["pending"],
        failing=row["failing"],
        oldest_pending_at=row["oldest_pending_at"],
        lag_seconds=float(row["lag_seconds"] or 0.0),
        last_published_at=last_published_at,
        last_error=last_error,
    )
