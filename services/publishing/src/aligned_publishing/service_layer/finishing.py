"""When every target of a job is finished, the job is too: one event says how it went."""

from __future__ import annotations

from datetime import datetime

from aligned_common.db import UnitOfWork
from aligned_common.events.publishing import JobFailed, JobPartiallyPublished, JobPublished, TargetResult

from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.status import FINISHED_JOB, JobStatus, TargetStatus, job_outcome

# TargetResult has no "missed": a missed target is reported as failed with the reason.
_RESULT_STATUS = {TargetStatus.MISSED: "failed"}


async def finish_if_done(uow: UnitOfWork, job: repo.Record, now: datetime) -> None:
    if job["status"] in FINISHED_JOB:
        return
    targets = await repo.load_targets(uow.conn, job["job_id"])
    outcome = job_outcome([t["status"] for t in targets])
    if outcome is None:
        await _explain_held(uow, job, targets, now)
        return
    results = [_result(t) for t in targets]
    keys = {"brand_id": job["brand_id"], "tenant_id": job["tenant_id"], "subject": str(job["job_id"])}
    reason = None
    if outcome in (JobStatus.PUBLISHED, JobStatus.PARTIALLY_PUBLISHED):
        await repo.log_media_published(uow.conn, job["job_id"], now)  # the asset's usage history
    if outcome == JobStatus.PUBLISHED:
        await uow.emit(JobPublished(job_id=job["job_id"], targets=results), **keys)
    elif outcome == JobStatus.PARTIALLY_PUBLISHED:
        await uow.emit(JobPartiallyPublished(job_id=job["job_id"], targets=results), **keys)
    elif outcome == JobStatus.FAILED:
        reason = "; ".join(f"{t['platform']}: {t['last_error']}" for t in targets if t["last_error"]) or "failed"
        await uow.emit(JobFailed(job_id=job["job_id"], reason=reason, targets=results), **keys)
    await repo.update_job(uow.conn, job["job_id"], now, status=outcome.value, status_reason=reason)


async def _explain_held(uow: UnitOfWork, job: repo.Record, targets: list[repo.Record], now: datetime) -> None:
    """A job that cannot proceed says why in its status."""
    held = [t for t in targets if t["status"] == TargetStatus.HELD]
    reason = (
        "held: " + "; ".join(f"{t['platform']} connection {t['connection_id']}: {t['held_reason']}" for t in held)
        if held
        else None
    )
    if reason != job["status_reason"] and job["status"] in (JobStatus.SCHEDULED, JobStatus.PUBLISHING):
        await repo.update_job(uow.conn, job["job_id"], now, status_reason=reason)


def _result(target: repo.Record) -> TargetResult:
    status = _RESULT_STATUS.get(target["status"], target["status"])
    return TargetResult(
        target_id=target["target_id"],
        platform=target["platform"],
        status=status,
        remote_id=target["remote_id"],
        url=target["url"],
        error=target["last_error"],
    )
