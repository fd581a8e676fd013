"""Commands on a job: create, edit, submit, schedule, publish now, cancel, delete, restore."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from aligned_common.db import UnitOfWork
from aligned_common.events.publishing import JobCancelled, JobCreated, JobUpdated, TargetRef
from aligned_common.identity import Identity
from aligned_common.platforms import MediaInfo

from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.commands import CreateJob, EditJob, ScheduleJob
from aligned_publishing.domain.content_fit import TargetDraft, check_job_fits
from aligned_publishing.domain.schedule import ScheduleError, resolve_schedule
from aligned_publishing.domain.status import FINISHED_JOB, LOCKED_JOB, JobStatus, TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import conflict, gone, invalid, invalid_many, not_found

Record = repo.Record
SCHEDULABLE = {
    JobStatus.DRAFT,
    JobStatus.CHANGES_REQUESTED,
    JobStatus.PENDING_APPROVAL,
    JobStatus.READY,
    JobStatus.SCHEDULED,
}


def _uow(deps: Deps, identity: Identity) -> UnitOfWork:
    return UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id)


async def _locked_job(uow: UnitOfWork, job_id: uuid.UUID) -> Record:
    job = await repo.load_job(uow.conn, job_id, for_update=True)
    if job is None or job["deleted_at"] is not None:
        raise not_found("Job", job_id)
    return job


# -- content fit ---------------------------------------------------------------------------
async def _check_fit(uow: UnitOfWork, content: str, media_ids: list[uuid.UUID], targets: list[TargetDraft]) -> None:
    wanted = set(media_ids) | {m for t in targets for m in (t.media_ids or ())}
    rows = await repo.media_infos(uow.conn, list(wanted))
    media = {
        r["media_id"]: MediaInfo(mime_type=r["mime_type"], size_bytes=r["size_bytes"], duration_s=r["duration_s"])
        for r in rows
    }
    errors = check_job_fits(content, media_ids, targets, media)
    if errors:
        raise invalid_many([e.as_dict() for e in errors])


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
async def create_job(deps: Deps, identity: Identity, body: CreateJob) -> uuid.UUID:
    now = deps.clock.now()
    targets = [t.draft() for t in body.targets]
    schedule = _resolve(body.scheduled_at, body.time_zone) if body.scheduled_at else None
    if schedule:
        _require_future(schedule.at_utc, now)
    job_id = uuid.uuid4()
    async with _uow(deps, identity) as uow:
        await _check_fit(uow, body.content, body.media_ids, targets)
        await repo.insert_job(
            uow.conn,
            dict(
                job_id=job_id,
                brand_id=identity.brand_id,
                tenant_id=identity.tenant_id,
                author_id=identity.user_id,
                content=body.content,
                tags=body.tags,
                media_ids=body.media_ids,
                scheduled_at=schedule.at_utc if schedule else None,
                time_zone=schedule.time_zone if schedule else None,
                requires_approval=body.requires_approval,
                max_retries=body.max_retries if body.max_retries is not None else deps.settings.default_max_retries,
                created_at=now,
                updated_at=now,
            ),
        )
        await repo.replace_targets(uow.conn, job_id, identity.brand_id, targets)
        await repo.replace_media_usage(uow.conn, job_id, identity.brand_id, _all_media(body.media_ids, targets))
    return job_id


async def edit_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: EditJob) -> None:
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] in LOCKED_JOB:
            raise conflict(f"job is {job['status']}; it can no longer be edited", job_status=job["status"])
        current = await repo.load_targets(uow.conn, job_id, for_update=True)
        content = body.content if body.content is not None else job["content"]
        media_ids = body.media_ids if body.media_ids is not None else list(job["media_ids"])
        targets = [t.draft() for t in body.targets] if body.targets is not None else [_draft_of(t) for t in current]
        await _check_fit(uow, content, media_ids, targets)
        # Tags and retry settings are ours; text, media and accounts are what the client approves.
        post_changed = content != job["content"] or media_ids != list(job["media_ids"]) or body.targets is not None
        changes = {"content": content, "media_ids": media_ids}
        for field in ("tags", "requires_approval", "max_retries"):
            if getattr(body, field) is not None:
                changes[field] = getattr(body, field)
        job = await repo.update_job(uow.conn, job_id, now, **changes)
        if body.targets is not None:
            await repo.replace_targets(uow.conn, job_id, identity.brand_id, targets)
        await repo.replace_media_usage(uow.conn, job_id, identity.brand_id, _all_media(media_ids, targets))
        if (
            job["requires_approval"]
            and job["status"] in (JobStatus.PENDING_APPROVAL, JobStatus.READY, JobStatus.SCHEDULED)
            # ... or approval was just switched on for a job that was never approved
            and (post_changed or (not gate_open(job) and job["status"] != JobStatus.PENDING_APPROVAL))
        ):
            # What the client approved is not what would go out any more: ask again.
            await _open_approval_round(uow, deps, job, now)
        elif job["status"] == JobStatus.SCHEDULED or (
            job["status"] == JobStatus.PENDING_APPROVAL and not job["requires_approval"]
        ):  # still due (targets may be new), or approval was switched off while waiting for it
            job = await _release(uow, deps, job, now)
            await _emit_updated(uow, job)
        else:
            await _emit_updated(uow, job)


def _draft_of(target: Record) -> TargetDraft:
    media = tuple(target["media_variant"]) if target["media_variant"] is not None else None
    return TargetDraft(target["platform"], target["connection_id"], target["text_variant"], media)


# -- the approval gate ---------------------------------------------------------------------
async def submit_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
            raise conflict(f"job is {job['status']}; only a draft or a job with changes requested is submitted")
        await _submit(uow, deps, job, now)


async def _submit(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> Record:
    if job["requires_approval"]:
        return await _open_approval_round(uow, deps, job, now)
    job = await repo.update_job(uow.conn, job["job_id"], now, approval_round=job["approval_round"] + 1)
    await _emit_created(uow, job)
    return await _release(uow, deps, job, now)


async def _open_approval_round(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> Record:
    await repo.park_targets(uow.conn, job["job_id"], TargetStatus.WAITING, now)
    job = await repo.update_job(
        uow.conn,
        job["job_id"],
        now,
        status=JobStatus.PENDING_APPROVAL.value,
        approval_round=job["approval_round"] + 1,
        approved_round=None,
        status_reason="waiting for approval",
    )
    await _emit_created(uow, job)
    return job


async def _release(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> Record:
    """The gate is open (approved, or no approval needed): ready, or scheduled if it has a time."""
    at = job["scheduled_at"]
    if at is None:
        return await repo.update_job(uow.conn, job["job_id"], now, status=JobStatus.READY.value, status_reason=None)
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
    return await repo.update_job(uow.conn, job["job_id"], now, status=JobStatus.SCHEDULED.value, status_reason=reason)


def gate_open(job: Record) -> bool:
    return not job["requires_approval"] or (
        job["approved_round"] is not None and job["approved_round"] == job["approval_round"]
    )


async def approve(uow: UnitOfWork, deps: Deps, job: Record) -> None:
    now = deps.clock.now()
    job = await repo.update_job(uow.conn, job["job_id"], now, approved_round=job["approval_round"])
    await _release(uow, deps, job, now)


# -- time ----------------------------------------------------------------------------------
async def schedule_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: ScheduleJob) -> None:
    """Schedule or reschedule. Scheduling a draft submits it (through approval if it needs one)."""
    now = deps.clock.now()
    schedule = _resolve(body.scheduled_at, body.time_zone)
    _require_future(schedule.at_utc, now)
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in SCHEDULABLE:
            raise conflict(f"job is {job['status']}; it can no longer be scheduled", job_status=job["status"])
        job = await repo.update_job(uow.conn, job_id, now, scheduled_at=schedule.at_utc, time_zone=schedule.time_zone)
        await _move_forward(uow, deps, job, now)


async def publish_now(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with _uow(deps, identity) as uow:
        job = await _locked_job(uow, job_id)
        if job["status"] not in SCHEDULABLE:
            raise conflict(f"job is {job['status']}; it cannot be published now", job_status=job["status"])
        if job["requires_approval"] and job["status"] not in (JobStatus.READY, JobStatus.SCHEDULED):
            raise conflict("job needs approval before it is published", job_status=job["status"])
        job = await repo.update_job(uow.conn, job_id, now, scheduled_at=now)
        await _move_forward(uow, deps, job, now)


async def _move_forward(uow: UnitOfWork, deps: Deps, job: Record, now: datetime) -> None:
    if job["status"] in (JobStatus.DRAFT, JobStatus.CHANGES_REQUESTED):
        await _submit(uow, deps, job, now)
    elif job["status"] in (JobStatus.READY, JobStatus.SCHEDULED) and gate_open(job):
        job = await _release(uow, deps, job, now)
        await _emit_updated(uow, job)
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


async def _emit_created(uow: UnitOfWork, job: Record) -> None:
    targets = await repo.load_targets(uow.conn, job["job_id"])
    await uow.emit(
        JobCreated(
            job_id=job["job_id"],
            author_id=job["author_id"],
            requires_approval=job["requires_approval"],
            content=job["content"],
            scheduled_at=job["scheduled_at"],
            round=max(1, job["approval_round"]),
            targets=[
                TargetRef(target_id=t["target_id"], platform=t["platform"], connection_id=t["connection_id"])
                for t in targets
            ],
        ),
        **_keys(job),
    )


async def _emit_updated(uow: UnitOfWork, job: Record) -> None:
    await uow.emit(
        JobUpdated(
            job_id=job["job_id"], status=job["status"], content=job["content"], scheduled_at=job["scheduled_at"]
        ),
        **_keys(job),
    )
