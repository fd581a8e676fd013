"""Job and target states, and which transitions the API allows."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    CHANGES_REQUESTED = "changes_requested"
    READY = "ready"  # approved (or needs no approval), no time set yet
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TargetStatus(StrEnum):
    WAITING = "waiting"  # the job is not due-able yet (draft, awaiting approval)
    SCHEDULED = "scheduled"  # due at next_attempt_at (first attempt or a retry)
    PUBLISHING = "publishing"  # requested; awaiting connections' answer
    HELD = "held"  # its connection expired or was revoked
    PUBLISHED = "published"
    FAILED = "failed"
    MISSED = "missed"  # held past its window; reported, not posted late
    CANCELLED = "cancelled"


FINISHED_JOB = frozenset(
    {JobStatus.PUBLISHED, JobStatus.PARTIALLY_PUBLISHED, JobStatus.FAILED, JobStatus.CANCELLED}
)
# Once anything went out (or is going out) the content is history: editing it would lie.
LOCKED_JOB = FINISHED_JOB | {JobStatus.PUBLISHING}
FINISHED_TARGET = frozenset(
    {TargetStatus.PUBLISHED, TargetStatus.FAILED, TargetStatus.MISSED, TargetStatus.CANCELLED}
)


def job_outcome(target_statuses: list[str]) -> JobStatus | None:
    """The job's final status once every target is finished; None while any is not."""
    if not target_statuses or any(s not in FINISHED_TARGET for s in target_statuses):
        return None
    published = sum(1 for s in target_statuses if s == TargetStatus.PUBLISHED)
    if published == len(target_statuses):
        return JobStatus.PUBLISHED
    if published:
        return JobStatus.PARTIALLY_PUBLISHED
    if all(s == TargetStatus.CANCELLED for s in target_statuses):
        return JobStatus.CANCELLED
    return JobStatus.FAILED
