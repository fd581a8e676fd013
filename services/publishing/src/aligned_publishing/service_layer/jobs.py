"""Commands on a job: create, edit, submit, schedule, publish now, cancel, delete, restore."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from aligned_common import known_connections
from aligned_common.db import UnitOfWork
from aligned_common.events.analytics import PlanAccepted
from aligned_common.events.publishing import (
    ApprovalWaived,
    JobCancelled,
    JobCreated,
    JobEdited,
    JobUpdated,
    TargetRef,
)
from aligned_common.identity import Identity
from aligned_common.platforms import MediaInfo
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.adapters import projections
from aligned_publishing.adapters.variants import variants_of
from aligned_publishing.domain.commands import CreateJob, EditJob, ScheduleJob
from aligned_publishing.domain.content_fit import TargetDraft, check_job_fits
from aligned_publishing.domain.gate import Gate, Outgoing, approved_for_current, content_hash, evaluate
from aligned_publishing.domain.references import check_targets
from aligned_publishing.domain.schedule import ScheduleError, resolve_schedule
from aligned_publishing.domain.status import FINISHED_JOB, LOCKED_JOB, JobStatus, TargetStatus
from aligned_publishing.domain.warnings import alt_text_warnings
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import conflict, gone, invalid, invalid_many, not_found

log = logging.getLogger(__name__)
Record = repo.Record
LEGACY_HASH = "legacy"  # content_hash of jobs from before migration 0003
PLAN_TAG = "auto-plan"  # the drafts an accepted plan made
SCHEDULABLE = {
    JobStatus.DRAFT,
    JobStatus.CHANGES_REQUESTED,
    JobStatus.PENDING_APPROVAL,
    JobStatus.READY,
    JobStatus.SCHEDULED,
}


def _uow(deps: Deps, identity: Identity) -> UnitOfWork:
    return UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id)


class _GatedUnitOfWork(UnitOfWork):
    """A command that decides the gate: the brand's gate lock (shared) comes first."""

    async def __aenter__(self):
        uow = await super().__aenter__()
        await projections.lock_brand_gate(uow.conn, self.brand_id, exclusive=False)
        return uow


def _gated_uow(deps: Deps, identity: Identity) -> UnitOfWork:
    return _GatedUnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id)


async def _locked_job(uow: UnitOfWork, job_id: uuid.UUID) -> Record:
    job = await repo.load_job(uow.conn, job_id, for_update=True)
    if job is None or job["deleted_at"] is not None:
        raise not_found("Job", job_id)
    return job


# -- content fit and references ------------------------------------------------------------
async def _check_fit(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    content: str,
    media_ids: list[uuid.UUID],
    targets: list[TargetDraft],
    *,
    check_connections: bool = True,
) -> None:
    """Every reason the job cannot be stored as written, in one 422: unknown, foreign or
    disconnected connections (from our projection, never by trusting the id), media of
    another brand, and content that does not fit a platform."""
    wanted = set(media_ids) | {m for t in targets for m in (t.media_ids or ())}
    rows = await repo.media_infos(uow.conn, brand_id, list(wanted))
    media = {
        r["media_id"]: MediaInfo(
            mime_type=r["mime_type"],
            size_bytes=r["size_bytes"],
            duration_s=r["duration_s"],
            video_codec=r["video_codec"],
        )
        for r in rows
    }
    fitted = {
        (r["media_id"], platform): MediaInfo(mime_type=v["mime_type"], size_bytes=v["size_bytes"])
        for r in rows
        for platform, v in variants_of(r).items()
    }
    errors = []
    if check_connections:
        known = await known_connections.of_brand(uow.conn, brand_id, [t.connection_id for t in targets])
        errors.extend(check_targets(targets, known))
    errors.extend(check_job_fits(content, media_ids, targets, media, fitted))
    if errors:
        raise invalid_many([e.as_dict() for e in errors])


# -- the gate's inputs -----------------------------------------------------------------------
def _outgoing(content: str, media_ids: list[uuid.UUID], targets: list[TargetDraft]) -> list[Outgoing]:
    return [
        Outgoing(
            t.connection_id,
            t.platform.lower(),
            t.text if t.text is not None else content,
            tuple(t.media_ids) if t.media_ids is not None else tuple(media_ids),
        )
        for t in targets
    ]


async def _assess(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    author_id: str,
    author_asked: bool,
    content: str,
    media_ids: list[uuid.UUID],
    targets: list[TargetDraft],
) -> tuple[str, Gate]:
    """The hash of what would go out, and the gate for it (from our copy of the policies)."""
    policies = await projections.brand_policies(uow.conn, brand_id)
    gate = evaluate(policies, [t.connection_id for t in targets], author_id, author_asked)
    return content_hash(_outgoing(content, media_ids, targets)), gate


async def _refresh(uow: UnitOfWork, job: Record, now: datetime) -> Record:
    """Re-decide the gate for the job as it stands (a policy may have changed since)."""
    targets = [_draft_of(t) for t in await repo.load_targets(uow.conn, job["job_id"])]
    digest, gate = await _assess(
        uow,
        job["brand_id"],
        job["author_id"],
        job["requires_approval"],
        job["content"],
        list(job["media_ids"]),
        targets,
    )
    if job["content_hash"] == LEGACY_HASH:
        digest = LEGACY_HASH  # a job from before hashes: its approval stands until its first edit
    if (digest, gate.required, gate.reason) == (
        job["content_hash"],
        job["approval_required"],
        job["approval_reason"],
    ):
        return job
    return await repo.update_job(
        uow.conn,
        job["job_id"],
        now,
        content_hash=digest,
        approval_required=gate.required,
        approval_reason=gate.reason,
    )


def _all_media(media_ids: list[uuid.UUID], targets: list[TargetDraft]) -> set[uuid.UUID]:
    return set(media_ids) | {m for t in targets for m in (t.media_ids or ())}


def _resolve(at: datetime, time_zone: str | None):
    try:
        return resolve_schedule(at, time_zone)
    except ScheduleError as exc:
        raise invalid(exc.field, exc.message) from None


def _require_future(at: datetime, now: datetime) -> None:
    if at <= now:
        raise invalid("scheduled_at", f"{at.isoformat()} is in the past (now {now.isoformat()})")


# -- create / edit -------------------------------------------------------------------------
async def create_plan_drafts(uow: UnitOfWork, deps: Deps, envelope, data: PlanAccepted) -> None:
    """analytics.plan_accepted: one draft per slot of the plan, due at the slot's moment and shown
    in the brand's zone, for its author to write and submit. Gated like any job: the gate is
    assessed from our copy of the policies now and again on submit. A draft's id is derived from
    the plan and the slot, so even a replay past the inbox's dedupe creates nothing twice."""
    now = deps.clock.now()
    await projections.lock_brand_gate(uow.conn, envelope.brand_id, exclusive=False)  # as a command does
    for slot in data.slots:
        if slot.connection_id is None:
            continue  # a slot for no account (none planned so far) has nowhere to go
        job_id = uuid.uuid5(data.plan_id, f"{slot.connection_id}/{slot.at.isoformat()}")
        if await repo.load_job(uow.conn, job_id) is not None:
            continue
        targets = [TargetDraft(slot.platform, slot.connection_id)]
        digest, gate = await _assess(uow, envelope.brand_id, data.accepted_by, False, "", [], targets)
        await repo.insert_job(
            uow.conn,
            {
                "job_id": job_id,
                "brand_id": envelope.brand_id,
                "tenant_id": envelope.tenant_id,
                "author_id": data.accepted_by,
                "content": "",
                "tags": [PLAN_TAG],
                "media_ids": [],
                "scheduled_at": slot.at,
                "time_zone": data.time_zone,
                "requires_approval": False,
                "content_hash": digest,
                "approval_required": gate.required,
                "approval_reason": gate.reason,
                "max_retries": deps.settings.default_max_retries,
                "created_at": now,
                "updated_at": now,
            },
        )
        await repo.replace_targets(uow.conn, job_id, envelope.brand_id, targets)


async def create_job(deps: Deps, identity: Identity, body: CreateJob) -> uuid.UUID:
    now = deps.clock.now()
    targets = [t.draft() for t in body.targets]
    schedule = _resolve(body.scheduled_at, body.time_zone) if body.scheduled_at else None
    if schedule:
        _require_future(schedule.at_utc, now)
    job_id = uuid.uuid4()
    async with _gated_uow(deps, identity) as uow:
        await _check_fit(uow, identity.brand_id, body.content, body.media_ids, targets)
        digest, gate = await _assess(
            uow,
            identity.brand_id,
            identity.user_id,
            body.requires_approval,
            body.content,
            body.media_ids,
            targets,
        )
        await repo.insert_job(
            uow.conn,
            {
                "job_id": job_id,
                "brand_id": identity.brand_id,
                "tenant_id": identity.tenant_id,
                "author_id": identity.user_id,
                "content": body.content,
                "tags": body.tags,
                "media_ids": body.media_ids,
                "scheduled_at": schedule.at_utc if schedule else None,
                "time_zone": schedule.time_zone if schedule else None,
                "requires_approval": body.requires_approval,
                "content_hash": digest,
                "approval_required": gate.required,
                "approval_reason": gate.reason,
                "max_retries": body.max_retries
                if body.max_retries is not None
                else deps.settings.default_max_retries,
                "created_at": now,
                "updated_at": now,
            },
        )
        await repo.replace_targets(uow.conn, job_id, identity.brand_id, targets)
        await repo.replace_media_usage(
            uow.conn, job_id, identity.brand_id, _all_media(body.media_ids, targets), now
        )
    return job_id


async def edit_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: EditJob) -> str | None:
    """Edit a job; returns a note when part of the request was not applied (an approval only
    someone else may waive). What the client approved is text, media and accounts: a change
    to any of them, or an attempt to switch approval off without the right to waive it, sends
    a submitted or approved job back for approval."""
    now = deps.clock.now()
    async with _gated_uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] in LOCKED_JOB:
            raise conflict(f"job is {job['status']}; it can no longer be edited", job_status=job["status"])
        current = await repo.load_targets(uow.conn, job_id, for_update=True)
        before = _edit_view(job, [_draft_of(t) for t in current])
        content = body.content if body.content is not None else job["content"]
        media_ids = body.media_ids if body.media_ids is not None else list(job["media_ids"])
        targets = (
            [t.draft() for t in body.targets] if body.targets is not None else [_draft_of(t) for t in current]
        )
        await _check_fit(
            uow, identity.brand_id, content, media_ids, targets, check_connections=body.targets is not None
        )

        asked = job["requires_approval"] if body.requires_approval is None else body.requires_approval
        waive, note = False, None
        if body.requires_approval is False:
            asked, waive, note = await _switch_off(uow, identity, job, content, media_ids, targets)
        digest, gate = await _assess(
            uow, identity.brand_id, job["author_id"], asked, content, media_ids, targets
        )
        changes = {
            "content": content,
            "media_ids": media_ids,
            "requires_approval": asked,
            "content_hash": digest,
            "approval_required": gate.required,
            "approval_reason": gate.reason,
        }
        for field in ("tags", "max_retries"):
            if getattr(body, field) is not None:
                changes[field] = getattr(body, field)
        if waive:
            changes |= {
                "approved_hash": digest,
                "approval_waived_by": identity.user_id,
                "approval_waived_at": now,
            }
        job = await repo.update_job(uow.conn, job_id, now, **changes)
        if body.targets is not None:
            await repo.replace_targets(uow.conn, job_id, identity.brand_id, targets)
        await repo.replace_media_usage(
            uow.conn, job_id, identity.brand_id, _all_media(media_ids, targets), now
        )
        await _emit_edited(uow, job, before, _edit_view(job, targets))
        if waive:
            log.info(
                "approval of job %s waived by %s (%s): %s",
                job_id,
                identity.user_id,
                identity.role,
                gate.reason,
            )
            await uow.emit(
                ApprovalWaived(
                    job_id=job_id,
                    waived_by=identity.user_id,
                    role=identity.role,
                    content_hash=digest,
                    reason=gate.reason or "approval required",
                ),
                **_keys(job),
            )

        status = job["status"]
        if status not in (JobStatus.PENDING_APPROVAL, JobStatus.READY, JobStatus.SCHEDULED):
            await _emit_updated(uow, job)  # a draft (or sent back): the gate is decided on submit
        elif note is not None and status != JobStatus.PENDING_APPROVAL:
            await _open_approval_round(uow, job, now)  # tried to switch approval off: ask again
        elif gate_open(job) and (status == JobStatus.SCHEDULED or status == JobStatus.PENDING_APPROVAL):
            # still due (targets may be new), or no approval is needed any more (waived)
            job = await _release(uow, deps, job, now)
            await _emit_updated(uow, job)
        elif not gate_open(job) and (status != JobStatus.PENDING_APPROVAL or job["round_hash"] != digest):
            # What the client approved (or is looking at) is not what would go out: ask again.
            await _open_approval_round(uow, job, now)
        else:
            await _emit_updated(uow, job)
    return note


async def _switch_off(
    uow: UnitOfWork,
    identity: Identity,
    job: Record,
    content: str,
    media_ids: list,
    targets: list[TargetDraft],
) -> tuple[bool, bool, str | None]:
    """PATCH requires_approval=false: (the author's flag after it, whether it is a waiver, a note
    when it was not applied). An author may drop their own request on a draft never submitted;
    once submitted, or where a policy requires approval, only the waiver roles may."""
    _, gate = await _assess(
        uow, identity.brand_id, job["author_id"], job["requires_approval"], content, media_ids, targets
    )
    if not gate.required:
        return False, False, None
    _, by_policy = await _assess(uow, identity.brand_id, job["author_id"], False, content, media_ids, targets)
    never_submitted = job["status"] == JobStatus.DRAFT and job["approval_round"] == 0
    if never_submitted and not by_policy.required:
        return False, False, None
    if identity.role in gate.waiver_roles:
        return False, True, None
    roles = ", ".join(sorted(gate.waiver_roles)) or "nobody"
    return (
        job["requires_approval"],
        False,
        f"approval was not switched off: only {roles} may waive it ({gate.reason}); the job stays under approval",
    )


def _draft_of(target: Record) -> TargetDraft:
    media = tuple(target["media_variant"]) if target["media_variant"] is not None else None
    return TargetDraft(
        target["platform"],
        target["connection_id"],
        target["text_variant"],
        media,
        repo.alt_text_variant(target),
    )


# -- the approval gate ---------------------------------------------------------------------
async def submit_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with _gated_uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
            raise conflict(
                f"job is {job['status']}; only a draft or a job with changes requested is submitted"
            )
        await _submit(uow, deps, job, now)


async def _submit(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> Record:
    job = await _refresh(uow, job, now)
    if not gate_open(job):
        return await _open_approval_round(uow, job, now)
    job = await repo.update_job(uow.conn, job["job_id"], now, approval_round=job["approval_round"] + 1)
    await _emit_created(uow, job, requires_approval=False)
    return await _release(uow, deps, job, now)


async def _open_approval_round(uow: UnitOfWork, job: Record, now: datetime) -> Record:
    """A new round for exactly what would go out now (its hash is what an approval must match)."""
    await repo.park_targets(uow.conn, job["job_id"], TargetStatus.WAITING, now)
    job = await repo.update_job(
        uow.conn,
        job["job_id"],
        now,
        status=JobStatus.PENDING_APPROVAL.value,
        approval_round=job["approval_round"] + 1,
        approved_round=None,
        approved_hash=None,
        approval_waived_by=None,
        approval_waived_at=None,
        round_hash=job["content_hash"],
        status_reason="waiting for " + (job["approval_reason"] or "approval"),
    )
    await _emit_created(uow, job, requires_approval=True)
    return job


async def _release(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> Record:
    """The gate is open (approved, or no approval needed): ready, or scheduled if it has a time."""
    at = job["scheduled_at"]
    if at is None:
        return await repo.update_job(
            uow.conn, job["job_id"], now, status=JobStatus.READY.value, status_reason=None
        )
    if at < now - timedelta(seconds=deps.settings.hold_grace_s):
        # Approved too late: posting hours after the moment it was planned for is not what was approved.
        await repo.park_targets(uow.conn, job["job_id"], TargetStatus.WAITING, now)
        return await repo.update_job(
            uow.conn,
            job["job_id"],
            now,
            status=JobStatus.READY.value,
            status_reason=f"its time {at.isoformat()} passed before it could go out; schedule it again",
        )
    held = await repo.schedule_targets(uow.conn, job["job_id"], at, now)
    reason = f"{held} target(s) held: their connection needs attention" if held else None
    return await repo.update_job(
        uow.conn, job["job_id"], now, status=JobStatus.SCHEDULED.value, status_reason=reason
    )


def gate_open(job: Record) -> bool:
    """Nothing reaches a platform unless this holds: no approval needed, or an approval (a
    round or a waiver) of exactly the content that would go out."""
    return not job["approval_required"] or approved_for_current(job["approved_hash"], job["content_hash"])


async def approve(uow: UnitOfWork, deps: Deps, job: Record) -> None:
    """The current round was approved: it covers the content the round showed (round_hash)."""
    now = deps.clock.now()
    job = await repo.update_job(
        uow.conn, job["job_id"], now, approved_round=job["approval_round"], approved_hash=job["round_hash"]
    )
    if gate_open(job):
        await _release(uow, deps, job, now)
    else:  # cannot happen while every change opens a new round; if it does, ask again, never post
        await _open_approval_round(uow, job, now)


async def reassess_brand(uow: UnitOfWork, deps: Deps, brand_id: uuid.UUID) -> int:
    """A policy changed: every job of the brand not yet dispatched follows it. A ready or
    scheduled job that now needs approval it does not have goes back for approval; returns
    how many did. (A job already waiting for approval keeps waiting: its round stays open.)"""
    now = deps.clock.now()
    sent_back = 0
    jobs = await uow.conn.fetch(
        """SELECT * FROM publishing_jobs
            WHERE brand_id = $1 AND deleted_at IS NULL
              AND status IN ('draft', 'changes_requested', 'pending_approval', 'ready', 'scheduled')
            ORDER BY job_id FOR UPDATE""",
        brand_id,
    )
    for job in jobs:
        job = await _refresh(uow, job, now)
        if job["status"] in (JobStatus.READY, JobStatus.SCHEDULED) and not gate_open(job):
            await _open_approval_round(uow, job, now)
            sent_back += 1
    return sent_back


# -- time ----------------------------------------------------------------------------------
async def schedule_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: ScheduleJob) -> None:
    """Schedule or reschedule. Scheduling a draft submits it (through approval if it needs one)."""
    now = deps.clock.now()
    schedule = _resolve(body.scheduled_at, body.time_zone)
    _require_future(schedule.at_utc, now)
    async with _gated_uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in SCHEDULABLE:
            raise conflict(f"job is {job['status']}; it can no longer be scheduled", job_status=job["status"])
        before = {"scheduled_at": job["scheduled_at"], "time_zone": job["time_zone"]}
        job = await repo.update_job(
            uow.conn, job_id, now, scheduled_at=schedule.at_utc, time_zone=schedule.time_zone
        )
        await _emit_edited(
            uow, job, before, {"scheduled_at": job["scheduled_at"], "time_zone": job["time_zone"]}
        )
        await _move_forward(uow, deps, job, now)


async def publish_now(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with _gated_uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in SCHEDULABLE:
            raise conflict(f"job is {job['status']}; it cannot be published now", job_status=job["status"])
        job = await _refresh(uow, job, now)
        if not gate_open(job):
            raise conflict(
                f"job needs approval before it is published: {job['approval_reason']}",
                job_status=job["status"],
                approval_reason=job["approval_reason"],
            )
        job = await repo.update_job(uow.conn, job_id, now, scheduled_at=now)
        await _move_forward(uow, deps, job, now)


async def _move_forward(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> None:
    if job["status"] in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
        await _submit(uow, deps, job, now)
        return
    job = await _refresh(uow, job, now)
    if gate_open(job):  # ready, scheduled, or waiting for an approval no longer needed (policy relaxed)
        job = await _release(uow, deps, job, now)
        await _emit_updated(uow, job)
    elif job["status"] in (JobStatus.READY, JobStatus.SCHEDULED):
        await _open_approval_round(uow, job, now)  # a policy now requires approval it lacks
    else:
        await _emit_updated(uow, job)  # pending approval: the new time applies once approved


# -- cancel / delete / restore -------------------------------------------------------------
async def cancel_job(deps: Deps, identity: Identity, job_id: uuid.UUID, reason: str | None) -> None:
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] in LOCKED_JOB:
            raise conflict(f"job is {job['status']}; it can no longer be cancelled", job_status=job["status"])
        await repo.park_targets(uow.conn, job_id, TargetStatus.CANCELLED, now)
        await repo.update_job(uow.conn, job_id, now, status=JobStatus.CANCELLED.value, status_reason=reason)
        await uow.emit(JobCancelled(job_id=job_id, reason=reason), **_keys(job))


async def delete_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    """Soft delete: hidden from lists and search, restorable for the restore window. A job that
    has not gone out stops (back to draft, so a restore brings back something editable)."""
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] == JobStatus.PUBLISHING:
            raise conflict("job is publishing; wait until it finishes", job_status=job["status"])
        changes: dict = {"deleted_at": now}
        if job["status"] not in FINISHED_JOB:
            await repo.park_targets(uow.conn, job_id, TargetStatus.WAITING, now)
            changes |= {"status": JobStatus.DRAFT.value, "status_reason": "restored from the bin"}
            if job["status"] != JobStatus.DRAFT:
                await uow.emit(JobCancelled(job_id=job_id, reason="deleted"), **_keys(job))
        await repo.update_job(uow.conn, job_id, now, **changes)


async def restore_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await repo.load_job(uow.conn, job_id, for_update=True)
        if job is None or job["deleted_at"] is None:
            raise not_found("Deleted job", job_id)
        if job["deleted_at"] < now - timedelta(days=deps.settings.restore_window_days):
            raise gone(f"job {job_id} was deleted more than {deps.settings.restore_window_days} days ago")
        await repo.update_job(uow.conn, job_id, now, deleted_at=None)


# -- events --------------------------------------------------------------------------------
def _keys(job: Record) -> dict:
    return {"brand_id": job["brand_id"], "tenant_id": job["tenant_id"], "subject": str(job["job_id"])}


async def _emit_created(uow: UnitOfWork, job: Record, *, requires_approval: bool) -> None:
    """One per round: approvers see every target's own text and media and the content hash
    their decision will cover."""
    targets = await repo.load_targets(uow.conn, job["job_id"])
    chosen = {
        t["target_id"]: list(t["media_variant"] if t["media_variant"] is not None else job["media_ids"])
        for t in targets
    }
    alt_texts = await repo.alt_texts(uow.conn, job["brand_id"], [m for ids in chosen.values() for m in ids])
    await uow.emit(
        JobCreated(
            job_id=job["job_id"],
            author_id=job["author_id"],
            requires_approval=requires_approval,
            content=job["content"],
            media_ids=list(job["media_ids"]),
            scheduled_at=job["scheduled_at"],
            round=max(1, job["approval_round"]),
            content_hash=job["content_hash"],
            approval_reason=job["approval_reason"] if requires_approval else None,
            targets=[
                TargetRef(
                    target_id=t["target_id"],
                    platform=t["platform"],
                    connection_id=t["connection_id"],
                    text=t["text_variant"] if t["text_variant"] is not None else job["content"],
                    media_ids=chosen[t["target_id"]],
                    warnings=alt_text_warnings(
                        t["platform"], chosen[t["target_id"]], alt_texts | (repo.alt_text_variant(t) or {})
                    ),
                )
                for t in targets
            ],
        ),
        **_keys(job),
    )


def _edit_view(job: Record, targets: list[TargetDraft]) -> dict:
    """What an edit may change, as the audit trail shows it."""
    return {
        "content": job["content"],
        "media_ids": list(job["media_ids"]),
        "targets": [
            {
                "platform": t.platform,
                "connection_id": t.connection_id,
                "text": t.text,
                "media_ids": list(t.media_ids) if t.media_ids is not None else None,
            }
            for t in targets
        ],
        "requires_approval": job["requires_approval"],
        "tags": list(job["tags"]),
        "max_retries": job["max_retries"],
    }


async def _emit_edited(uow: UnitOfWork, job: Record, before: dict, after: dict) -> None:
    """The audit trail's before/after of an edit: only the fields it changed (none: no event)."""
    changed = [field for field in after if before.get(field) != after[field]]
    if changed:
        await uow.emit(
            JobEdited(
                job_id=job["job_id"],
                before={f: before.get(f) for f in changed},
                after={f: after[f] for f in changed},
            ),
            **_keys(job),
        )


async def _emit_updated(uow: UnitOfWork, job: Record) -> None:
    await uow.emit(
        JobUpdated(
            job_id=job["job_id"],
            status=job["status"],
            content=job["content"],
            scheduled_at=job["scheduled_at"],
            content_hash=job["content_hash"],
        ),
        **_keys(job),
    )
