"""connections.connection_expired / revoked / restored -> hold a connection's targets, then resume.

A hold is remembered per connection, so a job scheduled while its connection is broken is
held at once instead of failing at the platform. On restore, a target still within the grace
window goes out (late by at most the window); one past it is reported as missed, never posted
silently hours late.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from aligned_common import known_connections
from aligned_common.db import UnitOfWork
from aligned_common.events.publishing import TargetMissed
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.finishing import check_finished


async def _lock_jobs_of(uow: UnitOfWork, connection_id: uuid.UUID, statuses: list[str]) -> list[repo.Record]:
    # Lock order: jobs (in id order) before their targets, like every other writer.
    return await uow.conn.fetch(
        """SELECT * FROM publishing_jobs WHERE job_id IN (
               SELECT job_id FROM publishing_targets WHERE connection_id = $1 AND status = ANY($2))
           ORDER BY job_id FOR UPDATE""",
        connection_id,
        statuses,
    )


async def hold_connection(
    uow: UnitOfWork, deps: Deps, brand_id: uuid.UUID, connection_id: uuid.UUID, reason: str, now: datetime
) -> None:
    await uow.conn.execute(
        """INSERT INTO connection_holds (brand_id, connection_id, reason, since) VALUES ($1, $2, $3, $4)
           ON CONFLICT (connection_id) DO UPDATE SET reason = excluded.reason""",
        brand_id,
        connection_id,
        reason,
        now,
    )
    jobs = await _lock_jobs_of(
        uow, connection_id, [TargetStatus.SCHEDULED.value, TargetStatus.PUBLISHING.value]
    )
    for in_flight in await uow.conn.fetch(
        "SELECT * FROM publishing_targets WHERE connection_id = $1 AND status = 'publishing' FOR UPDATE",
        connection_id,
    ):  # its attempt ends here; a late answer for it still counts (see outcomes)
        await repo.record_attempt(uow.conn, in_flight, in_flight["attempts"], now, "held", error=reason)
    await uow.conn.execute(
        """UPDATE publishing_targets SET status = 'held', held_reason = $2, next_attempt_at = NULL, updated_at = $3
            WHERE connection_id = $1 AND status IN ('scheduled', 'publishing')""",
        connection_id,
        reason,
        now,
    )
    for job in jobs:
        await check_finished(uow, job, now)


async def _project(uow: UnitOfWork, envelope, data) -> None:
    """The projection of connections that jobs may name (domain/references.py)."""
    await known_connections.record(uow.conn, envelope, data)


async def on_connected(uow: UnitOfWork, deps: Deps, envelope, data) -> None:
    """A new (or re-made) connection: jobs may name it from now on."""
    await _project(uow, envelope, data)


async def on_connection_broken(uow: UnitOfWork, deps: Deps, envelope, data) -> None:
    await _project(uow, envelope, data)
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


async def on_connection_restored(uow: UnitOfWork, deps: Deps, envelope, data) -> None:
    await _project(uow, envelope, data)
    now = deps.clock.now()
    grace = timedelta(seconds=deps.settings.hold_grace_s)
    await uow.conn.execute("DELETE FROM connection_holds WHERE connection_id = $1", data.connection_id)
    jobs = await _lock_jobs_of(uow, data.connection_id, [TargetStatus.HELD.value])
    held = await uow.conn.fetch(
        "SELECT * FROM publishing_targets WHERE connection_id = $1 AND status = 'held' FOR UPDATE",
        data.connection_id,
    )
    for target in held:
        due = target["due_at"] or now
        if due >= now - grace:
            await repo.update_target(
                uow.conn,
                target["target_id"],
                now,
                status=TargetStatus.SCHEDULED.value,
                next_attempt_at=max(due, now),
                held_reason=None,
            )
        else:
            await _miss(uow, deps, target, due, now)
    for job in jobs:
        await check_finished(uow, await repo.load_job(uow.conn, job["job_id"]), now)


async def _miss(uow: UnitOfWork, deps: Deps, target: repo.Record, due: datetime, now: datetime) -> None:
    late = now - due
    reason = (
        f"missed: held ({target['held_reason']}) until {late} after its time; "
        f"the grace window is {timedelta(seconds=deps.settings.hold_grace_s)}"
    )
    await repo.update_target(
        uow.conn,
        target["target_id"],
        now,
        status=TargetStatus.MISSED.value,
        next_attempt_at=None,
        last_error=reason,
    )
    job = await repo.load_job(uow.conn, target["job_id"])
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
