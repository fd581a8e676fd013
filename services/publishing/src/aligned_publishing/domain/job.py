"""The job aggregate: a post to one or more accounts and the one place its status changes.

Every transition goes through `Job._move`, which refuses a move the table below does not allow
(`IllegalTransition`, a conflict). The commands' own refusals (a locked job edited, a job that
needs approval published now) are the guards here too, so a handler only asks the job. The
aggregate records what changed (`changes`); the repository writes exactly that, once.

The outcome path (a target's answer) decides from a few columns of the job in the same
statement as its targets, for throughput (adapters/jobs_repo.py), so it does not load a Job:
it asks `check_transition` for the move it makes instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from aligned_publishing.domain.errors import Conflict, Gone, IllegalTransition, NotFound
from aligned_publishing.domain.gate import Gate, approved_for_current
from aligned_publishing.domain.status import FINISHED_JOB, LOCKED_JOB, JobStatus, TargetStatus

J = JobStatus
_BEFORE_DISPATCH = {J.DRAFT, J.CHANGES_REQUESTED, J.PENDING_APPROVAL, J.READY, J.SCHEDULED}
_ENDS = {J.PUBLISHED, J.PARTIALLY_PUBLISHED, J.FAILED, J.CANCELLED}

# Where each status may go. A job not yet dispatched may be (re)submitted, sent to approval,
# released, cancelled, or deleted (back to draft); only the dispatcher starts publishing; only
# its targets' outcomes end it (a scheduled job ends without publishing when all its targets
# were held past their window).
JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    J.DRAFT: frozenset({J.DRAFT, J.PENDING_APPROVAL, J.READY, J.SCHEDULED, J.CANCELLED}),
    J.CHANGES_REQUESTED: frozenset({J.DRAFT, J.PENDING_APPROVAL, J.READY, J.SCHEDULED, J.CANCELLED}),
    J.PENDING_APPROVAL: frozenset(_BEFORE_DISPATCH | {J.CANCELLED}),
    J.READY: frozenset({J.DRAFT, J.PENDING_APPROVAL, J.READY, J.SCHEDULED, J.CANCELLED}),
    J.SCHEDULED: frozenset({J.DRAFT, J.PENDING_APPROVAL, J.READY, J.SCHEDULED, J.PUBLISHING} | _ENDS),
    J.PUBLISHING: frozenset(_ENDS),
    J.PUBLISHED: frozenset(),
    J.PARTIALLY_PUBLISHED: frozenset(),
    J.FAILED: frozenset(),
    J.CANCELLED: frozenset(),
}

T = TargetStatus
# A target's life: waiting (the job cannot go out yet) -> scheduled (due) -> publishing
# (requested) -> published / failed, or back to scheduled (a retry); held while its connection
# is broken, then scheduled again or missed; cancelled with its job.
_TARGET_MOVES: dict[TargetStatus, set[TargetStatus]] = {
    T.WAITING: {T.WAITING, T.SCHEDULED, T.HELD, T.CANCELLED},
    T.SCHEDULED: {T.WAITING, T.SCHEDULED, T.PUBLISHING, T.HELD, T.CANCELLED},
    T.PUBLISHING: {T.PUBLISHING, T.SCHEDULED, T.FAILED, T.HELD},
    T.HELD: {T.WAITING, T.SCHEDULED, T.HELD, T.MISSED, T.CANCELLED},
    T.FAILED: set(),
    T.MISSED: set(),
    T.CANCELLED: set(),
    T.PUBLISHED: set(),
}
# A post that did go out is a fact whatever the target was told in between (a late answer to
# an attempt we had stopped waiting for): every status but published itself may become it.
TARGET_TRANSITIONS: dict[TargetStatus, frozenset[TargetStatus]] = {
    status: frozenset(moves | ({T.PUBLISHED} if status != T.PUBLISHED else set()))
    for status, moves in _TARGET_MOVES.items()
}
# The targets that have not gone out and are not going out: parked or rescheduled together.
UNSENT_TARGET = (T.WAITING, T.SCHEDULED, T.HELD)


def check_transition(current: str, to: JobStatus) -> None:
    if to not in JOB_TRANSITIONS[JobStatus(current)]:
        raise IllegalTransition(f"a {current} job cannot become {to}", job_status=str(current))


def check_target_transition(current: str, to: TargetStatus) -> None:
    if to not in TARGET_TRANSITIONS[TargetStatus(current)]:
        raise IllegalTransition(f"a {current} target cannot become {to}", target_status=str(current))


class Release(Enum):
    """What opening the gate did: no time (ready), its time passed (ready, told why), or due."""

    READY = "ready"
    TOO_LATE = "too_late"
    DUE = "due"


LEGACY_HASH = "legacy"  # content_hash of jobs from before migration 0003


@dataclass(eq=False)
class Job:
    job_id: uuid.UUID
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    author_id: str
    content: str
    tags: list[str]
    media_ids: list[uuid.UUID]
    scheduled_at: datetime | None
    time_zone: str | None
    requires_approval: bool  # the author asked
    content_hash: str | None
    approval_required: bool  # the gate: the author asked, or a policy says so
    approval_reason: str | None
    max_retries: int
    created_at: datetime
    updated_at: datetime
    status: JobStatus = JobStatus.DRAFT
    status_reason: str | None = None
    approval_round: int = 0  # rounds opened so far (0: never submitted)
    approved_round: int | None = None
    round_hash: str | None = None  # content_hash when the current round opened
    approved_hash: str | None = None  # what an approval or a waiver covers
    approval_waived_by: str | None = None
    approval_waived_at: datetime | None = None
    retry_count: int = 0
    last_error: str | None = None
    version: int = 1
    deleted_at: datetime | None = None
    # What changed since it was loaded (column -> value): what the repository writes.
    changes: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        values = {f.name: row[f.name] for f in fields(cls) if f.name != "changes"}
        values |= {
            "status": JobStatus(row["status"]),
            "tags": list(row["tags"]),
            "media_ids": list(row["media_ids"]),
        }
        return cls(**values)

    def row(self) -> dict[str, Any]:
        """Every column, as the repository inserts a new job."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "changes"}

    def keys(self) -> dict[str, Any]:
        """An event's keys: the job's brand and tenant, the job as its subject."""
        return {"brand_id": self.brand_id, "tenant_id": self.tenant_id, "subject": str(self.job_id)}

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
            self.changes[name] = value

    def _move(self, to: JobStatus, reason: str | None) -> None:
        check_transition(self.status, to)
        self._set(status=to, status_reason=reason)

    # -- the gate ---------------------------------------------------------------------------
    @property
    def gate_open(self) -> bool:
        """Nothing reaches a platform unless this holds: no approval needed, or an approval (a
        round or a waiver) of exactly the content that would go out."""
        return not self.approval_required or approved_for_current(self.approved_hash, self.content_hash)

    def assess(self, digest: str, gate: Gate, *, legacy_stands: bool = True) -> None:
        """The hash of what would go out now and the gate for it. A job from before hashes
        keeps its approval until its first edit (`legacy_stands=False`)."""
        if legacy_stands and self.content_hash == LEGACY_HASH:
            digest = LEGACY_HASH
        new = {"content_hash": digest, "approval_required": gate.required, "approval_reason": gate.reason}
        if any(getattr(self, k) != v for k, v in new.items()):
            self._set(**new)

    def waive(self, by: str, at: datetime) -> None:
        """Someone allowed to waive the gate did: it covers exactly the current content."""
        self._set(approved_hash=self.content_hash, approval_waived_by=by, approval_waived_at=at)

    def open_round(self) -> None:
        """A new round for exactly what would go out now (its hash is what an approval must match)."""
        self._move(JobStatus.PENDING_APPROVAL, "waiting for " + (self.approval_reason or "approval"))
        self._set(
            approval_round=self.approval_round + 1,
            approved_round=None,
            approved_hash=None,
            approval_waived_by=None,
            approval_waived_at=None,
            round_hash=self.content_hash,
        )

    def count_round(self) -> None:
        """Submitted with the gate open: a round all the same (approvers' views number them)."""
        self._set(approval_round=self.approval_round + 1)

    def is_current_round(self, round_: int) -> bool:
        return self.status == JobStatus.PENDING_APPROVAL and self.approval_round == round_

    def approve(self) -> None:
        """The current round was approved: it covers the content the round showed (round_hash)."""
        self._set(approved_round=self.approval_round, approved_hash=self.round_hash)

    def send_back(self, reason: str) -> None:
        self._move(JobStatus.CHANGES_REQUESTED, reason)

    def release(self, now: datetime, grace: timedelta) -> Release:
        """The gate is open (approved, or no approval needed): ready, or scheduled if it has a
        time. DUE leaves it to the caller to schedule the targets and `note_held`."""
        at = self.scheduled_at
        if at is None:
            self._move(JobStatus.READY, None)
            return Release.READY
        if at < now - grace:
            # Approved too late: posting hours after the moment it was planned for is not what was approved.
            self._move(
                JobStatus.READY, f"its time {at.isoformat()} passed before it could go out; schedule it again"
            )
            return Release.TOO_LATE
        self._move(JobStatus.SCHEDULED, None)
        return Release.DUE

    def note_held(self, held: int) -> None:
        if held:
            self._set(status_reason=f"{held} target(s) held: their connection needs attention")

    # -- commands ---------------------------------------------------------------------------
    def _refuse_if(self, statuses: frozenset[JobStatus] | set[JobStatus], what: str) -> None:
        if self.status in statuses:
            raise Conflict(f"job is {self.status}; {what}", job_status=str(self.status))

    def _require(self, statuses: frozenset[JobStatus] | set[JobStatus], what: str) -> None:
        self._refuse_if(set(JobStatus) - set(statuses), what)

    def ensure_editable(self) -> None:
        """Once anything went out (or is going out) the content is history: editing it would lie."""
        self._refuse_if(LOCKED_JOB, "it can no longer be edited")

    def edit(self, **values: Any) -> None:
        """Content, media, tags, the author's approval flag, retries."""
        self.ensure_editable()
        self._set(**values)

    def ensure_submittable(self) -> None:
        if self.status not in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
            raise Conflict(f"job is {self.status}; only a draft or a job with changes requested is submitted")

    @property
    def unsubmitted(self) -> bool:
        """A draft (or sent back): the gate is decided when it is submitted."""
        return self.status in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED)

    def reschedule(self, at: datetime, time_zone: str | None) -> None:
        self._require(_BEFORE_DISPATCH, "it can no longer be scheduled")
        self._set(scheduled_at=at, time_zone=time_zone)

    def ensure_publishable_now(self) -> None:
        self._require(_BEFORE_DISPATCH, "it cannot be published now")

    def publish_now(self, now: datetime) -> None:
        """Due now; refused unless the gate is open for what would go out."""
        self.ensure_publishable_now()
        if not self.gate_open:
            raise Conflict(
                f"job needs approval before it is published: {self.approval_reason}",
                job_status=str(self.status),
                approval_reason=self.approval_reason,
            )
        self._set(scheduled_at=now)

    def cancel(self, reason: str | None) -> None:
        self._refuse_if(LOCKED_JOB, "it can no longer be cancelled")
        self._move(JobStatus.CANCELLED, reason)

    def delete(self, now: datetime) -> JobStatus:
        """Soft delete: hidden, restorable for the restore window. A job that has not gone out
        stops (back to draft, so a restore brings back something editable). Returns the status
        it had: the caller parks the targets of one that had not finished, and tells of the
        cancellation of one that was on its way."""
        if self.status == JobStatus.PUBLISHING:
            raise Conflict("job is publishing; wait until it finishes", job_status=str(self.status))
        was = self.status
        self._set(deleted_at=now)
        if was not in FINISHED_JOB:
            self._move(JobStatus.DRAFT, "restored from the bin")
        return was

    def restore(self, now: datetime, window: timedelta) -> None:
        if self.deleted_at is None:
            raise NotFound(
                f"no deleted job {self.job_id}", title="Deleted job not found"
            )  # as one never deleted
        if self.deleted_at < now - window:
            raise Gone(f"job {self.job_id} was deleted more than {window.days} days ago")
        self._set(deleted_at=None)

    def saved(self, now: datetime) -> None:
        """What the repository's UPDATE did besides the changes (updated_at, version)."""
        self.changes.clear()
        self.updated_at = now
        self.version += 1
