"""Opening, updating and closing approval rounds from publishing's events."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from aligned_approval.domain.decisions import on_edit
from aligned_approval.domain.policy import approvers_for
from aligned_approval.service_layer import notify
from aligned_approval.service_layer.ports import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import JobCancelled, JobCreated, JobUpdated

log = logging.getLogger(__name__)


async def open_round(
    uow: UnitOfWork,
    envelope: EventEnvelope,
    *,
    job_id: uuid.UUID,
    round_no: int,
    author_id: str,
    content: str,
    targets: list[dict[str, Any]],
    scheduled_at: datetime | None,
    base_url: str,
    content_hash: str | None = None,
) -> dict[str, Any] | None:
    """Opens round `round_no` of a job (once), supersedes older pending rounds, mails reviewers."""
    policies = await uow.policies.policies(envelope.brand_id)
    roles, users = approvers_for(policies, [uuid.UUID(str(t["connection_id"])) for t in targets], author_id)
    round_ = await uow.rounds.insert_round(
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        job_id=job_id,
        round=round_no,
        author_id=author_id,
        content=content,
        targets=targets,
        scheduled_at=scheduled_at,
        approver_roles=roles,
        approver_users=users,
        content_hash=content_hash,
    )
    if round_ is None:
        return None  # this round is open already
    await uow.rounds.cancel_pending_rounds(envelope.brand_id, job_id, below_round=round_no)
    await notify.approval_requested(uow, round_, base_url)
    return round_


async def on_job_created(
    uow: UnitOfWork, envelope: EventEnvelope, data: JobCreated, *, base_url: str
) -> None:
    if not data.requires_approval:
        return  # "full posting": publishing does not wait for us, so there is nothing to open
    await open_round(
        uow,
        envelope,
        job_id=data.job_id,
        round_no=data.round,
        author_id=data.author_id,
        content=data.content,
        targets=[t.model_dump(mode="json") for t in data.targets],
        scheduled_at=data.scheduled_at,
        base_url=base_url,
        content_hash=data.content_hash,  # the round shows every target's own text and media; a decision covers this
    )


async def on_job_updated(
    uow: UnitOfWork, envelope: EventEnvelope, data: JobUpdated, *, base_url: str
) -> None:
    """A pending round follows the edit; a decided round is never changed: an edit that
    publishing sends back for approval (status pending_approval) opens the next round."""
    latest = await uow.rounds.latest_round(envelope.brand_id, data.job_id)
    if latest is None:
        return  # a job that never needed approval
    step = on_edit(latest, data.status)
    if step == "follow":
        await uow.rounds.update_pending_content(latest["id"], data.content, data.scheduled_at)
    elif step == "reopen":
        await open_round(
            uow,
            envelope,
            job_id=data.job_id,
            round_no=latest["round"] + 1,
            author_id=latest["author_id"],
            content=data.content,
            targets=latest["targets"],
            scheduled_at=data.scheduled_at,
            base_url=base_url,
        )


async def on_job_cancelled(uow: UnitOfWork, envelope: EventEnvelope, data: JobCancelled) -> None:
    await uow.rounds.cancel_pending_rounds(envelope.brand_id, data.job_id)
