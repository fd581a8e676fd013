"""The audit trail: one append-only row per domain event, and its queries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from aligned_approval.adapters import audit
from aligned_approval.domain import pagination
from aligned_approval.domain.audit import entry_for
from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.identity import Identity, require_role

READERS = ("owner", "admin")


async def append_event(uow: UnitOfWork, envelope: EventEnvelope, data: EventData | None) -> None:
    """Runs in the inbox's transaction: processed_events and the (event_id, time) key both dedupe."""
    await audit.append(uow.conn, uow.schema, entry_for(envelope))


async def prepare_partitions(
    pool: asyncpg.Pool, schema: str, *, months_ahead: int, now: datetime | None = None
) -> list[str]:
    """Creates this month's partition and the next `months_ahead` (idempotent)."""
    now = now or datetime.now(UTC)
    created = []
    # worker role: maintenance of the whole table, not one brand's rows.
    async with UnitOfWork(pool, schema, role="worker") as uow:
        for offset in range(months_ahead + 1):
            year, month = divmod(now.month - 1 + offset, 12)
            created.append(
                await uow.conn.fetchval(
                    "SELECT audit_ensure_partition($1)",
                    now.replace(
                        year=now.year + year,
                        month=month + 1,
                        day=1,
                        hour=0,
                        minute=0,
                        second=0,
                        microsecond=0,
                    ),
                )
            )
    return created


async def query(
    pool: asyncpg.Pool,
    schema: str,
    identity: Identity,
    *,
    entity_type: str | None,
    entity_id: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    require_role(identity, *READERS)
    after = pagination.decode(cursor)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        rows = await audit.query(
            uow.conn,
            identity.brand_id,
            entity_type=entity_type,
            entity_id=entity_id,
            actor=actor,
            action=action,
            since=since,
            until=until,
            after=after,
            limit=limit + 1,
        )
    next_cursor = (
        pagination.encode(rows[limit - 1]["occurred_at"].isoformat(), rows[limit - 1]["event_id"])
        if len(rows) > limit
        else None
    )
    return rows[:limit], next_cursor
