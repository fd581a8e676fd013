"""connections.connection_expired / revoked / restored -> hold a connection's targets, then resume.

A hold is remembered per connection, so a job scheduled while its connection is broken is
held at once instead of failing at the platform. On restore, a target still within the grace
window goes out (late by at most the window); one past it is reported as missed, never posted
silently hours late.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import Connected, ConnectionRestored
from aligned_common.events.publishing import TargetMissed
from aligned_publishing.adapters.jobs_repo import Record
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.domain.job import check_target_transition
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.finishing import check_finished


async def hold_connection(
    uow: SqlUnitOfWork, deps: Deps, brand_id: uuid.UUID, connection_id: uuid.UUID, reason: str, now: datetime
) -> None:
    await uow.holds.put(brand_id, connection_id, reason, now)
    jobs = await uow.holds.lock_jobs_of(connection_id, [TargetStatus.SCHEDULED, TargetStatus.PUBLISHING])
    for in_flight in await uow.holds.lock_targets(connection_id, TargetStatus.PUBLISHING):
        # its attempt ends here; a late answer for it still counts (see outcomes)
        await uow.targets.record_attempt(in_flight, in_flight["attempts"], now, "held", error=reason)
    await uow.holds.hold_targets(connection_id, reason, now)
    for job in jobs:
        await check_finished(uow, job, now)


async def on_connected(uow: SqlUnitOfWork, deps: Deps, envelope: EventEnvelope, data: Connected) -> None:
    """A new (or re-made) connection: jobs may name it from now on (domain/references.py)."""
    await uow.connections.record(envelope, data)


async def on_connection_broken(uow: SqlUnitOfWork, deps: Deps, envelope: EventEnvelope, data: Any) -> None:
    await uow.connections.record(envelope, data)
    reason = data.event_type().split(".", 1)[1]  # connection_expired / connection_revoked / disconnected
    detail = getattr(data, "reason", None)
    await hold_connection(
        uow,
        deps,
        envelope.brand_id,
        data.connection_id,
        f"{reason}: {detail}" if detail else reason,
        deps.clock.now(),
    )


async def on_connection_restored(
    uow: SqlUnitOfWork, deps: Deps, envelope: EventEnvelope, data: ConnectionRestored
) -> None:
    await uow.connections.record(envelope, data)
    now = deps.clock.now()
    grace = timedelta(seconds=deps.settings.hold_grace_s)
    await uow.holds.lift(data.connection_id)
    jobs = await uow.holds.lock_jobs_of(data.connection_id, [TargetStatus.HELD])
    for target in await uow.holds.lock_targets(data.connection_id, TargetStatus.HELD):
        due = target["due_at"] or now
        if due >= now - grace:
            check_target_transition(target["status"], TargetStatus.SCHEDULED)
            await uow.targets.update(
                target["target_id"],
                now,
                status=TargetStatus.SCHEDULED.value,
                next_attempt_at=max(due, now),
                held_reason=None,
            )
        else:
            await _miss(uow, deps, target, due, now)
    for job in jobs:
        await check_finished(uow, await uow.targets.job_row(job["job_id"]), now)


async def _miss(uow: SqlUnitOfWork, deps: Deps, target: Record, due: datetime, now: datetime) -> None:
    late = now - due
    reason = (
        f"missed: held ({target['held_reason']}) until {late} after its time; "
        f"the grace window is {timedelta(seconds=deps.settings.hold_grace_s)}"
    )
    check_target_transition(target["status"], TargetStatus.MISSED)
    await uow.targets.update(
        target["target_id"],
        now,
        status=TargetStatus.MISSED.value,
        next_attempt_at=None,
        last_error=reason,
    )
    job = await uow.targets.job_row(target["job_id"])
    assert job is not None  # its target was just locked, after the job
    await uow.emit(
        TargetMissed(
            job_id=target["job_id"],
            target_id=target["target_id"],
            platform=target["platform"],
            connection_id=target["connection_id"],
            due_at=due,
            reason=reason,
        ),
        brand_id=job["brand_id"],
        tenant_id=job["tenant_id"],
        subject=str(job["job_id"]),
    )
