"""Commands on a job: create, edit, submit, schedule, publish now, cancel, delete, restore.

Each runs in one unit of work (`deps.uow`): the job's transitions are the aggregate's
(domain/job.py), storage is the unit of work's repositories (service_layer/ports.py), and the
job is saved once, at the end, with the events it emitted on the way.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import PlanAccepted
from aligned_common.events.publishing import (
    ApprovalWaived,
    ContentWarning,
    JobCancelled,
    JobCreated,
    JobEdited,
    JobUpdated,
    TargetRef,
)
from aligned_common.guardrails import blocking, warnings
from aligned_common.identity import Identity
from aligned_common.platforms import as_strings
from aligned_publishing.domain.commands import CreateJob, EditJob, ScheduleJob
from aligned_publishing.domain.content_fit import TargetDraft, check_job_fits
from aligned_publishing.domain.errors import Invalid
from aligned_publishing.domain.gate import Gate, Outgoing, content_hash, evaluate
from aligned_publishing.domain.guardrails import as_content_warning, job_findings, target_findings
from aligned_publishing.domain.job import Job, Release
from aligned_publishing.domain.references import check_targets
from aligned_publishing.domain.schedule import Schedule, ScheduleError, resolve_schedule
from aligned_publishing.domain.status import FINISHED_JOB, JobStatus, TargetStatus
from aligned_publishing.domain.warnings import alt_text_warnings
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import invalid, invalid_many, not_found
from aligned_publishing.service_layer.ports import Row, UnitOfWork

log = logging.getLogger(__name__)
PLAN_TAG = "auto-plan"  # the drafts an accepted plan made


async def _gated(uow: UnitOfWork, brand_id: uuid.UUID) -> None:
    """A command that decides the gate: the brand's gate lock (shared) comes first."""
    await uow.policies.lock_gate(brand_id, exclusive=False)


async def _locked_job(uow: UnitOfWork, job_id: uuid.UUID) -> Job:
    job = await uow.jobs.get(job_id, for_update=True)
    if job is None or job.deleted_at is not None:
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
    media, fitted = await uow.media.infos(brand_id, list(_all_media(media_ids, targets)))
    errors = []
    if check_connections:
        known = await uow.connections.known(brand_id, [t.connection_id for t in targets])
        errors.extend(check_targets(targets, known))
    errors.extend(check_job_fits(content, media_ids, targets, media, fitted))
    if errors:
        raise invalid_many([e.as_dict() for e in errors])


# -- the brand kit's guardrails ------------------------------------------------------------
async def _guard(
    uow: UnitOfWork, brand_id: uuid.UUID, content: str, targets: list[TargetDraft], tags: Sequence[str]
) -> list[dict[str, Any]]:
    """The kit's rules on what each target would post (our copy of the kit): a `block` finding
    refuses the command (422 naming the field, the rule and the span); the `warn` ones are
    returned, for the job to keep and show."""
    findings = job_findings(await uow.guardrails.of_brand(brand_id), content, targets, tags)
    refused = blocking(findings)
    if refused:
        rules = ", ".join(sorted({f.rule for f in refused}))
        raise Invalid(
            f"the brand kit's guardrails refuse this text: {rules}",
            title="Guardrail violated",
            errors=[f.as_error() for f in refused],
        )
    return [f.as_error() for f in warnings(findings)]


# -- the gate's inputs -----------------------------------------------------------------------
def _outgoing(content: str, media_ids: list[uuid.UUID], targets: list[TargetDraft]) -> list[Outgoing]:
    return [
        Outgoing(
            t.connection_id,
            t.platform.lower(),
            t.text if t.text is not None else content,
            tuple(t.media_ids) if t.media_ids is not None else tuple(media_ids),
            t.first_comment,
            t.platform_options,
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
    policies = await uow.policies.of_brand(brand_id)
    gate = evaluate(policies, [t.connection_id for t in targets], author_id, author_asked)
    return content_hash(_outgoing(content, media_ids, targets)), gate


async def _refresh(uow: UnitOfWork, job: Job) -> None:
    """Re-decide the gate for the job as it stands (a policy may have changed since)."""
    targets = [_draft_of(t) for t in await uow.jobs.targets(job.job_id)]
    digest, gate = await _assess(
        uow, job.brand_id, job.author_id, job.requires_approval, job.content, job.media_ids, targets
    )
    job.assess(digest, gate)


def _all_media(media_ids: list[uuid.UUID], targets: list[TargetDraft]) -> set[uuid.UUID]:
    return set(media_ids) | {m for t in targets for m in (t.media_ids or ())}


def _resolve(at: datetime, time_zone: str | None) -> Schedule:
    try:
        return resolve_schedule(at, time_zone)
    except ScheduleError as exc:
        raise invalid(exc.field, exc.message) from None


def _require_future(at: datetime, now: datetime) -> None:
    if at <= now:
        raise invalid("scheduled_at", f"{at.isoformat()} is in the past (now {now.isoformat()})")


# -- create / edit -------------------------------------------------------------------------
async def create_plan_drafts(
    uow: UnitOfWork, deps: Deps, envelope: EventEnvelope, data: PlanAccepted
) -> None:
    """analytics.plan_accepted: one draft per slot of the plan, due at the slot's moment and shown
    in the brand's zone, for its author to write and submit. Gated like any job: the gate is
    assessed from our copy of the policies now and again on submit. A draft's id is derived from
    the plan and the slot, so even a replay past the inbox's dedupe creates nothing twice."""
    now = deps.clock.now()
    await _gated(uow, envelope.brand_id)  # as a command does
    for slot in data.slots:
        if slot.connection_id is None:
            continue  # a slot for no account (none planned so far) has nowhere to go
        job_id = uuid.uuid5(data.plan_id, f"{slot.connection_id}/{slot.at.isoformat()}")
        if await uow.jobs.get(job_id) is not None:
            continue
        targets = [TargetDraft(slot.platform, slot.connection_id)]
        digest, gate = await _assess(uow, envelope.brand_id, data.accepted_by, False, "", [], targets)
        job = Job(
            job_id=job_id,
            brand_id=envelope.brand_id,
            tenant_id=envelope.tenant_id,
            author_id=data.accepted_by,
            content="",
            tags=[PLAN_TAG],
            media_ids=[],
            scheduled_at=slot.at,
            time_zone=data.time_zone,
            requires_approval=False,
            content_hash=digest,
            approval_required=gate.required,
            approval_reason=gate.reason,
            max_retries=deps.settings.default_max_retries,
            created_at=now,
            updated_at=now,
        )
        await uow.jobs.add(job)
        await uow.jobs.replace_targets(job_id, envelope.brand_id, targets)


async def create_job(deps: Deps, identity: Identity, body: CreateJob) -> uuid.UUID:
    async with deps.uow(identity.brand_id) as uow:
        job = await add_new_job(uow, deps, identity, body, uuid.uuid4(), deps.clock.now())
    return job.job_id


async def add_new_job(
    uow: UnitOfWork, deps: Deps, identity: Identity, body: CreateJob, job_id: uuid.UUID, now: datetime
) -> Job:
    """POST /v1/jobs inside a unit of work: content fit, references and the gate, then a draft.
    Also the path a feed entry's post takes (service_layer/feed_polling.py), so a post made by
    a feed is checked and gated exactly as one a person makes. Raises Invalid before it writes."""
    targets = [t.draft(body.first_comment) for t in body.targets]
    schedule = _resolve(body.scheduled_at, body.time_zone) if body.scheduled_at else None
    if schedule:
        _require_future(schedule.at_utc, now)
    await _gated(uow, identity.brand_id)
    await _check_fit(uow, identity.brand_id, body.content, body.media_ids, targets)
    warned = await _guard(uow, identity.brand_id, body.content, targets, body.tags)
    digest, gate = await _assess(
        uow,
        identity.brand_id,
        identity.user_id,
        body.requires_approval,
        body.content,
        body.media_ids,
        targets,
    )
    job = Job(
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
        content_hash=digest,
        approval_required=gate.required,
        approval_reason=gate.reason,
        max_retries=body.max_retries if body.max_retries is not None else deps.settings.default_max_retries,
        created_at=now,
        updated_at=now,
    )
    await uow.jobs.add(job)
    await uow.jobs.set_guardrail_warnings(job_id, warned)
    await uow.jobs.replace_targets(job_id, identity.brand_id, targets)
    await uow.jobs.replace_media_usage(job_id, identity.brand_id, _all_media(body.media_ids, targets), now)
    return job


async def edit_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: EditJob) -> str | None:
    """Edit a job; returns a note when part of the request was not applied (an approval only
    someone else may waive). What the client approved is text, media, accounts, first comments
    and per-platform fields: a change to any of them, or an attempt to switch approval off without the right to waive it, sends
    a submitted or approved job back for approval."""
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        await _gated(uow, identity.brand_id)
        job = await _locked_job(uow, job_id)
        job.ensure_editable()
        current = await uow.jobs.targets(job_id, for_update=True)
        before = _edit_view(job, [_draft_of(t) for t in current])
        content = body.content if body.content is not None else job.content
        media_ids = body.media_ids if body.media_ids is not None else list(job.media_ids)
        targets = _edited_targets(body, current)
        await _check_fit(
            uow, identity.brand_id, content, media_ids, targets, check_connections=body.targets is not None
        )
        tags = body.tags if body.tags is not None else job.tags
        await uow.jobs.set_guardrail_warnings(
            job_id, await _guard(uow, identity.brand_id, content, targets, tags)
        )

        asked = job.requires_approval if body.requires_approval is None else body.requires_approval
        waive, note = False, None
        if body.requires_approval is False:
            asked, waive, note = await _switch_off(uow, identity, job, content, media_ids, targets)
        digest, gate = await _assess(
            uow, identity.brand_id, job.author_id, asked, content, media_ids, targets
        )
        extra = {f: getattr(body, f) for f in ("tags", "max_retries") if getattr(body, f) is not None}
        job.edit(content=content, media_ids=media_ids, requires_approval=asked, **extra)
        job.assess(digest, gate, legacy_stands=False)
        if waive:
            job.waive(identity.user_id, now)
        if body.targets is not None or body.first_comment is not None:
            await uow.jobs.replace_targets(job_id, identity.brand_id, targets)
        await uow.jobs.replace_media_usage(job_id, identity.brand_id, _all_media(media_ids, targets), now)
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
                **job.keys(),
            )

        status = job.status
        if status not in (JobStatus.PENDING_APPROVAL, JobStatus.READY, JobStatus.SCHEDULED):
            await _emit_updated(uow, job)  # a draft (or sent back): the gate is decided on submit
        elif note is not None and status != JobStatus.PENDING_APPROVAL:
            await _open_approval_round(uow, job, now)  # tried to switch approval off: ask again
        elif job.gate_open and status in (JobStatus.SCHEDULED, JobStatus.PENDING_APPROVAL):
            # still due (targets may be new), or no approval is needed any more (waived)
            await _release(uow, deps, job, now)
            await _emit_updated(uow, job)
        elif not job.gate_open and (status != JobStatus.PENDING_APPROVAL or job.round_hash != digest):
            # What the client approved (or is looking at) is not what would go out: ask again.
            await _open_approval_round(uow, job, now)
        else:
            await _emit_updated(uow, job)
        await uow.jobs.save(job, now)
    return note


async def _switch_off(
    uow: UnitOfWork,
    identity: Identity,
    job: Job,
    content: str,
    media_ids: list[uuid.UUID],
    targets: list[TargetDraft],
) -> tuple[bool, bool, str | None]:
    """PATCH requires_approval=false: (the author's flag after it, whether it is a waiver, a note
    when it was not applied). An author may drop their own request on a draft never submitted;
    once submitted, or where a policy requires approval, only the waiver roles may."""
    _, gate = await _assess(
        uow, identity.brand_id, job.author_id, job.requires_approval, content, media_ids, targets
    )
    if not gate.required:
        return False, False, None
    _, by_policy = await _assess(uow, identity.brand_id, job.author_id, False, content, media_ids, targets)
    never_submitted = job.status == JobStatus.DRAFT and job.approval_round == 0
    if never_submitted and not by_policy.required:
        return False, False, None
    if identity.role in gate.waiver_roles:
        return False, True, None
    roles = ", ".join(sorted(gate.waiver_roles)) or "nobody"
    return (
        job.requires_approval,
        False,
        f"approval was not switched off: only {roles} may waive it ({gate.reason}); the job stays under approval",
    )


def _draft_of(target: Row) -> TargetDraft:
    media = tuple(target["media_variant"]) if target["media_variant"] is not None else None
    return TargetDraft(
        target["platform"],
        target["connection_id"],
        target["text_variant"],
        media,
        target["alt_text_variant"],
        target["first_comment"],
        target["platform_options"],
    )


def _edited_targets(body: EditJob, current: Sequence[Row]) -> list[TargetDraft]:
    """The targets after an edit: the body's, or the current ones; a job-wide first_comment in
    the body applies to each target that does not name its own ("" removes it)."""
    if body.targets is not None:
        return [t.draft(body.first_comment) for t in body.targets]
    drafts = [_draft_of(t) for t in current]
    if body.first_comment is None:
        return drafts
    return [dataclasses.replace(d, first_comment=body.first_comment or None) for d in drafts]


# -- the approval gate ---------------------------------------------------------------------
async def submit_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        await _gated(uow, identity.brand_id)
        job = await _locked_job(uow, job_id)
        job.ensure_submittable()
        await _submit(uow, deps, job, now)
        await uow.jobs.save(job, now)


async def submit_in(uow: UnitOfWork, deps: Deps, job: Job, now: datetime) -> None:
    """POST /v1/jobs/{id}/submit inside a unit of work that holds the job (a feed's new post)."""
    job.ensure_submittable()
    await _submit(uow, deps, job, now)
    await uow.jobs.save(job, now)


async def _submit(uow: UnitOfWork, deps: Deps, job: Job, now: datetime) -> None:
    # The kit may have changed since the draft was written: its rules are asked again.
    targets = [_draft_of(t) for t in await uow.jobs.targets(job.job_id)]
    await uow.jobs.set_guardrail_warnings(
        job.job_id, await _guard(uow, job.brand_id, job.content, targets, job.tags)
    )
    await _refresh(uow, job)
    if not job.gate_open:
        await _open_approval_round(uow, job, now)
        return
    job.count_round()
    await _emit_created(uow, job, requires_approval=False)
    await _release(uow, deps, job, now)


async def _open_approval_round(uow: UnitOfWork, job: Job, now: datetime) -> None:
    """A new round for exactly what would go out now (its hash is what an approval must match)."""
    await uow.jobs.park_targets(job.job_id, TargetStatus.WAITING, now)
    job.open_round()
    await _emit_created(uow, job, requires_approval=True)


async def _release(uow: UnitOfWork, deps: Deps, job: Job, now: datetime) -> None:
    """The gate is open (approved, or no approval needed): ready, or scheduled if it has a time."""
    release = job.release(now, timedelta(seconds=deps.settings.hold_grace_s))
    if release is Release.TOO_LATE:
        await uow.jobs.park_targets(job.job_id, TargetStatus.WAITING, now)
    elif release is Release.DUE:
        assert job.scheduled_at is not None  # DUE means it has a time
        job.note_held(await uow.jobs.schedule_targets(job.job_id, job.scheduled_at, now))


async def approve(uow: UnitOfWork, deps: Deps, job: Job) -> None:
    """The current round was approved: it covers the content the round showed (round_hash)."""
    now = deps.clock.now()
    job.approve()
    if job.gate_open:
        await _release(uow, deps, job, now)
    else:  # cannot happen while every change opens a new round; if it does, ask again, never post
        await _open_approval_round(uow, job, now)
    await uow.jobs.save(job, now)


async def reassess_brand(uow: UnitOfWork, deps: Deps, brand_id: uuid.UUID) -> int:
    """A policy changed: every job of the brand not yet dispatched follows it. A ready or
    scheduled job that now needs approval it does not have goes back for approval; returns
    how many did. (A job already waiting for approval keeps waiting: its round stays open.)"""
    now = deps.clock.now()
    sent_back = 0
    for job in await uow.jobs.not_dispatched(brand_id):
        await _refresh(uow, job)
        if job.status in (JobStatus.READY, JobStatus.SCHEDULED) and not job.gate_open:
            await _open_approval_round(uow, job, now)
            sent_back += 1
        await uow.jobs.save(job, now)
    return sent_back


# -- time ----------------------------------------------------------------------------------
async def schedule_job(deps: Deps, identity: Identity, job_id: uuid.UUID, body: ScheduleJob) -> None:
    """Schedule or reschedule. Scheduling a draft submits it (through approval if it needs one)."""
    now = deps.clock.now()
    schedule = _resolve(body.scheduled_at, body.time_zone)
    _require_future(schedule.at_utc, now)
    async with deps.uow(identity.brand_id) as uow:
        await _gated(uow, identity.brand_id)
        job = await _locked_job(uow, job_id)
        before = {"scheduled_at": job.scheduled_at, "time_zone": job.time_zone}
        job.reschedule(schedule.at_utc, schedule.time_zone)
        await _emit_edited(uow, job, before, {"scheduled_at": job.scheduled_at, "time_zone": job.time_zone})
        await _move_forward(uow, deps, job, now)
        await uow.jobs.save(job, now)


async def publish_now(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        await _gated(uow, identity.brand_id)
        job = await _locked_job(uow, job_id)
        job.ensure_publishable_now()
        await _refresh(uow, job)
        job.publish_now(now)
        await _move_forward(uow, deps, job, now)
        await uow.jobs.save(job, now)


async def _move_forward(uow: UnitOfWork, deps: Deps, job: Job, now: datetime) -> None:
    if job.unsubmitted:
        await _submit(uow, deps, job, now)
        return
    await _refresh(uow, job)
    if job.gate_open:  # ready, scheduled, or waiting for an approval no longer needed (policy relaxed)
        await _release(uow, deps, job, now)
        await _emit_updated(uow, job)
    elif job.status in (JobStatus.READY, JobStatus.SCHEDULED):
        await _open_approval_round(uow, job, now)  # a policy now requires approval it lacks
    else:
        await _emit_updated(uow, job)  # pending approval: the new time applies once approved


# -- cancel / delete / restore -------------------------------------------------------------
async def cancel_job(deps: Deps, identity: Identity, job_id: uuid.UUID, reason: str | None) -> None:
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        job = await _locked_job(uow, job_id)
        job.cancel(reason)
        await uow.jobs.park_targets(job_id, TargetStatus.CANCELLED, now)
        await uow.jobs.save(job, now)
        await uow.emit(JobCancelled(job_id=job_id, reason=reason), **job.keys())


async def delete_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    """Soft delete: hidden from lists and search, restorable for the restore window. A job that
    has not gone out stops (back to draft, so a restore brings back something editable)."""
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        job = await _locked_job(uow, job_id)
        was = job.delete(now)
        if was not in FINISHED_JOB:
            await uow.jobs.park_targets(job_id, TargetStatus.WAITING, now)
            if was != JobStatus.DRAFT:
                await uow.emit(JobCancelled(job_id=job_id, reason="deleted"), **job.keys())
        await uow.jobs.save(job, now)


async def restore_job(deps: Deps, identity: Identity, job_id: uuid.UUID) -> None:
    now = deps.clock.now()
    async with deps.uow(identity.brand_id) as uow:
        job = await uow.jobs.get(job_id, for_update=True)
        if job is None:
            raise not_found("Deleted job", job_id)
        job.restore(now, timedelta(days=deps.settings.restore_window_days))
        await uow.jobs.save(job, now)


# -- events --------------------------------------------------------------------------------
async def _emit_created(uow: UnitOfWork, job: Job, *, requires_approval: bool) -> None:
    """One per round: approvers see every target's own text and media and the content hash
    their decision will cover."""
    targets = await uow.jobs.targets(job.job_id)
    chosen = {
        t["target_id"]: list(t["media_variant"] if t["media_variant"] is not None else job.media_ids)
        for t in targets
    }
    alt_texts = await uow.media.alt_texts(job.brand_id, [m for ids in chosen.values() for m in ids])
    rules = await uow.guardrails.of_brand(job.brand_id)

    def kit_warnings(index: int, target: Row) -> list[ContentWarning]:
        if rules is None:
            return []
        found = target_findings(rules, index, _draft_of(target), job.content, job.tags)
        return [as_content_warning(f) for f in warnings(found)]

    await uow.emit(
        JobCreated(
            job_id=job.job_id,
            author_id=job.author_id,
            requires_approval=requires_approval,
            content=job.content,
            media_ids=list(job.media_ids),
            scheduled_at=job.scheduled_at,
            round=max(1, job.approval_round),
            content_hash=job.content_hash,
            approval_reason=job.approval_reason if requires_approval else None,
            targets=[
                TargetRef(
                    target_id=t["target_id"],
                    platform=t["platform"],
                    connection_id=t["connection_id"],
                    text=t["text_variant"] if t["text_variant"] is not None else job.content,
                    media_ids=chosen[t["target_id"]],
                    first_comment=t["first_comment"],
                    platform_options=as_strings(t["platform_options"] or {}),
                    warnings=alt_text_warnings(
                        t["platform"], chosen[t["target_id"]], alt_texts | (t["alt_text_variant"] or {})
                    )
                    + kit_warnings(index, t),
                )
                for index, t in enumerate(targets)
            ],
        ),
        **job.keys(),
    )


def _edit_view(job: Job, targets: list[TargetDraft]) -> dict[str, Any]:
    """What an edit may change, as the audit trail shows it."""
    return {
        "content": job.content,
        "media_ids": list(job.media_ids),
        "targets": [
            {
                "platform": t.platform,
                "connection_id": t.connection_id,
                "text": t.text,
                "media_ids": list(t.media_ids) if t.media_ids is not None else None,
            }
            | ({"first_comment": t.first_comment} if t.first_comment is not None else {})
            | ({"platform_options": dict(t.platform_options)} if t.platform_options else {})
            for t in targets
        ],
        "requires_approval": job.requires_approval,
        "tags": list(job.tags),
        "max_retries": job.max_retries,
    }


async def _emit_edited(uow: UnitOfWork, job: Job, before: dict[str, Any], after: dict[str, Any]) -> None:
    """The audit trail's before/after of an edit: only the fields it changed (none: no event)."""
    changed = [field for field in after if before.get(field) != after[field]]
    if changed:
        await uow.emit(
            JobEdited(
                job_id=job.job_id,
                before={f: before.get(f) for f in changed},
                after={f: after[f] for f in changed},
            ),
            **job.keys(),
        )


async def _emit_updated(uow: UnitOfWork, job: Job) -> None:
    await uow.emit(
        JobUpdated(
            job_id=job.job_id,
            status=job.status,
            content=job.content,
            scheduled_at=job.scheduled_at,
            content_hash=job.content_hash,
        ),
        **job.keys(),
    )
