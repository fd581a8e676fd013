"""The audit trail: one append-only row per domain event, and its queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aligned_approval.domain import pagination
from aligned_approval.domain.audit import entry_for
from aligned_approval.domain.errors import require_role
from aligned_approval.service_layer.ports import UnitOfWork, UnitsOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.identity import Identity

READERS = ("owner", "admin")


async def append_event(uow: UnitOfWork, envelope: EventEnvelope, data: EventData | None) -> None:
    """Runs in the inbox's transaction: processed_events and the (event_id, time) key both dedupe."""
    await uow.audit.append(uow.schema, entry_for(envelope))


async def prepare_partitions(uows: UnitsOfWork, *, months_ahead: int, now: datetime) -> list[str]:
    """Creates this month's partition and the next `months_ahead` (idempotent)."""
    created = []
    # worker role: maintenance of the whole table, not one brand's rows.
    async with uows(role="worker") as uow:
        for offset in range(months_ahead + 1):
            year, month = divmod(now.month - 1 + offset, 12)
            created.append(
                await uow.audit.create_partition(
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
    uows: UnitsOfWork,
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
    async with uows(brand_id=identity.brand_id) as uow:
        rows = await uow.audit.query(
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
