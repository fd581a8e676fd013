"""Opening, updating and closing approval rounds from publishing's events."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from aligned_approval.adapters import approvals
from aligned_approval.domain.decisions import RESUBMITTED_STATUSES, Status
from aligned_approval.domain.policy import approvers_for
from aligned_approval.service_layer import notify
from aligned_common.db import UnitOfWork
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
) -> dict | None:
    """Opens round `round_no` of a job (once), supersedes older pending rounds, mails reviewers."""
    policies = await approvals.policies(uow.conn, envelope.brand_id)
    roles, users = approvers_for(policies, [uuid.UUID(str(t["connection_id"])) for t in targets], author_id)
    round_ = await approvals.insert_round(
        uow.conn,
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
    await approvals.cancel_pending_rounds(uow.conn, envelope.brand_id, job_id, below_round=round_no)
    await notify.approval_requested(uow.conn, round_, base_url)
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
    latest = await approvals.latest_round(uow.conn, envelope.brand_id, data.job_id)
    if latest is None:
        return  # a job that never needed approval
    if latest["status"] == Status.PENDING:
        await approvals.update_pending_content(uow.conn, latest["id"], data.content, data.scheduled_at)
        return
    if latest["status"] != Status.CANCELLED and data.status in RESUBMITTED_STATUSES:
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
    await approvals.cancel_pending_rounds(uow.conn, envelope.brand_id, data.job_id)
