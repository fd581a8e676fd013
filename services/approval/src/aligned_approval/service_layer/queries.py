"""Read side: lists of rounds, one round with its history, links and escalations."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from aligned_approval.domain import pagination
from aligned_approval.domain.errors import NotFound
from aligned_approval.service_layer.decisions import not_found
from aligned_approval.service_layer.ports import UnitsOfWork
from aligned_common.identity import Identity


async def list_rounds(
    uows: UnitsOfWork,
    identity: Identity,
    *,
    status: str | None,
    reviewer: str | None,
    min_age_hours: float | None,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> tuple[list[dict[str, Any]], str | None]:
    after = pagination.decode(cursor)
    opened_before = now - timedelta(hours=min_age_hours) if min_age_hours else None
    async with uows(brand_id=identity.brand_id) as uow:
        reviewer_filter = None
        if reviewer:
            user_id = identity.user_id if reviewer == "me" else reviewer
            role = (
                identity.role if reviewer == "me" else await uow.members.role_of(identity.brand_id, user_id)
            )
            reviewer_filter = (user_id, role)
        rows = await uow.rounds.list_rounds(
            identity.brand_id,
            status=status,
            reviewer=reviewer_filter,
            opened_before=opened_before,
            after=after,
            limit=limit + 1,
        )
    next_cursor = (
        pagination.encode(rows[limit - 1]["opened_at"].isoformat(), rows[limit - 1]["id"])
        if len(rows) > limit
        else None
    )
    return rows[:limit], next_cursor


async def get_round(uows: UnitsOfWork, identity: Identity, approval_id: uuid.UUID) -> dict[str, Any]:
    async with uows(brand_id=identity.brand_id) as uow:
        round_ = await uow.rounds.get_round(identity.brand_id, approval_id)
        if round_ is None:
            raise not_found(approval_id)
        return {
            **round_,
            "rounds": await uow.rounds.rounds_of_job(identity.brand_id, round_["job_id"]),
            "links": await uow.links.of_round(identity.brand_id, approval_id),
            "escalations": await uow.escalations.events_of(identity.brand_id, approval_id),
            "escalation_history": await uow.escalations.history_of(identity.brand_id, approval_id),
            "notifications": await uow.notifications.of_brand(identity.brand_id, approval_id),
        }


async def rounds_of_job(uows: UnitsOfWork, identity: Identity, job_id: uuid.UUID) -> list[dict[str, Any]]:
    """404 for a job this brand does not have, the same whether it is another brand's or none."""
    async with uows(brand_id=identity.brand_id) as uow:
        if not await uow.jobs.known(identity.brand_id, job_id):
            raise NotFound(title="Job not found", detail=f"no job {job_id} in this brand")
        return await uow.rounds.rounds_of_job(identity.brand_id, job_id)


async def reviewers(uows: UnitsOfWork, identity: Identity) -> list[dict[str, Any]]:
    """The brand's members as the gateway announced them: who can be asked to review."""
    async with uows(brand_id=identity.brand_id) as uow:
        return await uow.members.list_reviewers(identity.brand_id)
