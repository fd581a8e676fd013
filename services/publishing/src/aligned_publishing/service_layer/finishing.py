"""When every target of a job is finished, the job is too: one event says how it went."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aligned_common.events.publishing import JobFailed, JobPartiallyPublished, JobPublished, TargetResult
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.domain.job import check_transition
from aligned_publishing.domain.status import FINISHED_JOB, JobStatus, TargetStatus, job_outcome

# TargetResult has no "missed": a missed target is reported as failed with the reason.
_RESULT_STATUS = {TargetStatus.MISSED: "failed"}
Row = Mapping[str, Any]


def finish_if_done(
    uow: SqlUnitOfWork, writes: repo.Writes, job: Row, targets: Sequence[Row], now: datetime
) -> None:
    """Adds to `writes` what the targets' statuses (as they will be) mean for the job: its end,
    with the event that says how it went, or why it is held."""
    if job["status"] in FINISHED_JOB:
        return
    outcome = job_outcome([t["status"] for t in targets])
    if outcome is None:
        _explain_held(writes, job, targets, now)
        return
    check_transition(job["status"], outcome)
    results = [_result(t) for t in targets]
    keys = {"brand_id": job["brand_id"], "tenant_id": job["tenant_id"], "subject": str(job["job_id"])}
    reason = None
    if outcome in (JobStatus.PUBLISHED, JobStatus.PARTIALLY_PUBLISHED):
        writes.log_media_published(job["job_id"], now)  # the asset's usage history
    if outcome == JobStatus.PUBLISHED:
        writes.emit(uow.event(JobPublished(job_id=job["job_id"], targets=results), **keys))
    elif outcome == JobStatus.PARTIALLY_PUBLISHED:
        writes.emit(uow.event(JobPartiallyPublished(job_id=job["job_id"], targets=results), **keys))
    elif outcome == JobStatus.FAILED:
        reason = (
            "; ".join(f"{t['platform']}: {t['last_error']}" for t in targets if t["last_error"]) or "failed"
        )
        writes.emit(uow.event(JobFailed(job_id=job["job_id"], reason=reason, targets=results), **keys))
    writes.update_job(job, now, status=outcome.value, status_reason=reason)


async def check_finished(uow: SqlUnitOfWork, job: Row | None, now: datetime) -> None:
    """finish_if_done for a writer that changed the job's targets with its own statements."""
    assert job is not None  # the writer holds the job's lock: it is there
    writes = repo.Writes()
    finish_if_done(uow, writes, job, await uow.targets.of_job(job["job_id"]), now)
    await uow.targets.write(writes)


def _explain_held(writes: repo.Writes, job: Row, targets: Sequence[Row], now: datetime) -> None:
    """A job that cannot proceed says why in its status."""
    held = [t for t in targets if t["status"] == TargetStatus.HELD]
    reason = (
        "held: "
        + "; ".join(f"{t['platform']} connection {t['connection_id']}: {t['held_reason']}" for t in held)
        if held
        else None
    )
    if reason != job["status_reason"] and job["status"] in (JobStatus.SCHEDULED, JobStatus.PUBLISHING):
        writes.update_job(job, now, status_reason=reason)


def _result(target: Row) -> TargetResult:
    status = _RESULT_STATUS.get(target["status"], target["status"])
    return TargetResult(
        target_id=target["target_id"],
        platform=target["platform"],
        status=status,
        remote_id=target["remote_id"],
        url=target["url"],
        error=target["last_error"],
    )
