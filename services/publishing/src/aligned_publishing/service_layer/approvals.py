"""approval.* -> the gate opens (approved) or the job goes back to its author; approval's
policies -> publishing's own copy, and the jobs not yet dispatched follow a change."""

from __future__ import annotations

import logging

from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.approval import Approved, ChangesRequested, PolicyChanged, PolicyDeleted, Rejected
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.adapters import projections
from aligned_publishing.domain.status import JobStatus, TargetStatus
from aligned_publishing.service_layer import jobs
from aligned_publishing.service_layer.deps import Deps

log = logging.getLogger(__name__)


async def _current_round_job(uow: UnitOfWork, data) -> repo.Record | None:
    """The job if this decision is about its current round; a decision on an older round
    (the content was edited since) changes nothing."""
    job = await repo.load_job(uow.conn, data.job_id, for_update=True)
    if job is None or job["status"] != JobStatus.PENDING_APPROVAL or job["approval_round"] != data.round:
        return None
    return job


async def on_approved(uow: UnitOfWork, deps: Deps, data: Approved) -> None:
    job = await _current_round_job(uow, data)
    if job is None:
        return
    if data.content_hash is not None and data.content_hash != job["round_hash"]:
        # The round approved something other than what this round asked about: it covers nothing.
        log.warning(
            "approval %s of job %s is for content %s, not %s; ignored",
            data.approval_id,
            data.job_id,
            data.content_hash,
            job["round_hash"],
        )
        return
    await jobs.approve(uow, deps, job)


async def on_policy_changed(
    uow: UnitOfWork, deps: Deps, envelope: EventEnvelope, data: PolicyChanged
) -> None:
    await projections.lock_brand_gate(uow.conn, envelope.brand_id, exclusive=True)
    await projections.put_policy(
        uow.conn,
        envelope.brand_id,
        data.policy_id,
        connection_id=data.connection_id,
        user_id=data.user_id,
        mode=data.mode,
        waiver_roles=data.waiver_roles,
        at=envelope.time,
    )
    await jobs.reassess_brand(uow, deps, envelope.brand_id)


async def on_policy_deleted(
    uow: UnitOfWork, deps: Deps, envelope: EventEnvelope, data: PolicyDeleted
) -> None:
    await projections.lock_brand_gate(uow.conn, envelope.brand_id, exclusive=True)
    await projections.delete_policy(uow.conn, envelope.brand_id, data.policy_id)
    await jobs.reassess_brand(uow, deps, envelope.brand_id)


async def on_sent_back(uow: UnitOfWork, deps: Deps, data: Rejected | ChangesRequested) -> None:
    job = await _current_round_job(uow, data)
    if job is None:
        return
    now = deps.clock.now()
    verb = "rejected" if isinstance(data, Rejected) else "changes requested"
    reason = f"{verb} by {data.decided_by}" + (f": {data.comment}" if data.comment else "")
    await repo.park_targets(uow.conn, job["job_id"], TargetStatus.WAITING, now)
    await repo.update_job(
        uow.conn, job["job_id"], now, status=JobStatus.CHANGES_REQUESTED.value, status_reason=reason
    )
