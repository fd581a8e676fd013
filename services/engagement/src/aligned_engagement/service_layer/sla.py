"""The SLA timer: an item left unanswered past its brand's first-response time is announced
once (engagement.sla_breached), for approval's escalation rules to act on."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from aligned_common.events.engagement import SlaBreached
from aligned_engagement.service_layer.deps import Deps
from aligned_engagement.service_layer.ports import UnitOfWork, Units

log = logging.getLogger(__name__)


async def tick(units: Units, now: datetime, *, hour_s: float, limit: int) -> int:
    """One pass; the claim marks and returns each breach in one statement, with its event in
    the same transaction, so replicas never announce one twice."""
    # worker role: the timer looks at every brand's unanswered items (ADR 0004).
    async with units(role="worker") as uow:
        breaches = await uow.items.claim_sla_breaches(now, hour_s, limit)
        for item, hours in breaches:
            await uow.emit(
                SlaBreached(
                    item_id=item.id, kind=item.kind, received_at=item.received_at, first_response_hours=hours
                ),
                brand_id=item.brand_id,
                tenant_id=item.tenant_id,
                subject=str(item.id),
            )
    return len(breaches)


async def run_forever(deps: Deps) -> None:
    while True:
        try:
            fired = await tick(
                deps.uow,
                deps.clock.now(),
                hour_s=deps.settings.sla_hour_s,
                limit=deps.settings.sla_batch_size,
            )
        except Exception:
            log.exception("SLA pass failed")  # the database may be away; try again next tick
            fired = 0
        if fired < deps.settings.sla_batch_size:
            await asyncio.sleep(deps.settings.sla_interval_s)


async def get(uow: UnitOfWork, brand_id: uuid.UUID) -> float | None:
    return await uow.slas.get(brand_id)


async def put(uow: UnitOfWork, brand_id: uuid.UUID, hours: float | None, now: datetime) -> None:
    await uow.slas.put(brand_id, hours, now)
