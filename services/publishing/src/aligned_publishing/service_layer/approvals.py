"""approval.* -> the gate opens (approved) or the job goes back to its author."""

from __future__ import annotations

from aligned_common.db import UnitOfWork
from aligned_common.events.approval import Approved, ChangesRequested, Rejected

from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.status import JobStatus, TargetStatus
from aligned_publishing.service_layer import jobs
from aligned_publishing.service_layer.deps import Deps


async def _current_round_job(uow: UnitOfWork, data) -> repo.Record | None:
    """The job if this decision is about its current round; a decision on an older round
    (the content was edited since) changes nothing."""
    job = await repo.load_job(uow.conn, data.job_id, for_update=True)
    if job is None or job["status"] != JobStatus.PENDING_APPROVAL or job["approval_round"] != data.round:
        return None
    return job


async def on_approved(uow: UnitOfWork, deps: Deps, data: Approved) -> None:
    job = await _current_round_job(uow, data)
    if job is not None:
        await jobs.approve(uow, deps, job)


async def on_sent_back(uow: UnitOfWork, deps: Deps, data: Rejected | ChangesRequested) -> None:
    job = await _current_round_job(uow, data)
    if job is None:
        return
    now = deps.clock.now()
    verb = "rejected" if isinstance(data, Rejected) else "changes requested"
    reason = f"{verb} by {data.decided_by}" + (f": {data.comment}" if data.comment else "")
    await repo.park_targets(uow.conn, job["job_id"], TargetStatus.WAITING, now)
    await repo.update_job(uow.conn, job["job_id"], now, status=JobStatus.CHANGES_REQUESTED.value, status_reason=reason)
