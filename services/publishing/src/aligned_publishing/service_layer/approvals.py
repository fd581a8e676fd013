"""approval.* -> the gate opens (approved) or the job goes back to its author; approval's
policies -> publishing's own copy, and the jobs not yet dispatched follow a change."""

from __future__ import annotations

import logging

from aligned_common.envelope import EventEnvelope
from aligned_common.events.approval import Approved, ChangesRequested, PolicyChanged, PolicyDeleted, Rejected
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.job import Job
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer import jobs
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.ports import UnitOfWork

log = logging.getLogger(__name__)


async def _current_round_job(uow: UnitOfWork, data: Approved | Rejected | ChangesRequested) -> Job | None:
    """The job if this decision is about its current round; a decision on an older round
    (the content was edited since) changes nothing."""
    job = await uow.jobs.get(data.job_id, for_update=True)
    if job is None or not job.is_current_round(data.round):
        return None
    return job


async def on_approved(uow: UnitOfWork, deps: Deps, data: Approved) -> None:
    job = await _current_round_job(uow, data)
    if job is None:
        return
    if data.content_hash is not None and data.content_hash != job.round_hash:
        # The round approved something other than what this round asked about: it covers nothing.
        log.warning(
            "approval %s of job %s is for content %s, not %s; ignored",
            data.approval_id,
            data.job_id,
            data.content_hash,
            job.round_hash,
        )
        return
    await jobs.approve(uow, deps, job)


async def on_policy_changed(
    uow: UnitOfWork, deps: Deps, envelope: EventEnvelope, data: PolicyChanged
) -> None:
    await uow.policies.lock_gate(envelope.brand_id, exclusive=True)
    policy = PolicyView(data.policy_id, data.mode, data.connection_id, data.user_id, tuple(data.waiver_roles))
    await uow.policies.put(envelope.brand_id, policy, envelope.time)
    await jobs.reassess_brand(uow, deps, envelope.brand_id)


async def on_policy_deleted(
    uow: UnitOfWork, deps: Deps, envelope: EventEnvelope, data: PolicyDeleted
) -> None:
    await uow.policies.lock_gate(envelope.brand_id, exclusive=True)
    await uow.policies.delete(envelope.brand_id, data.policy_id)
    await jobs.reassess_brand(uow, deps, envelope.brand_id)


async def on_sent_back(uow: UnitOfWork, deps: Deps, data: Rejected | ChangesRequested) -> None:
    job = await _current_round_job(uow, data)
    if job is None:
        return
    now = deps.clock.now()
    verb = "rejected" if isinstance(data, Rejected) else "changes requested"
    reason = f"{verb} by {data.decided_by}" + (f": {data.comment}" if data.comment else "")
    await uow.jobs.park_targets(job.job_id, TargetStatus.WAITING, now)
    job.send_back(reason)
    await uow.jobs.save(job, now)
