"""Read side: lists of rounds, one round with its history, links and escalations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from aligned_approval.adapters import approvals, escalations, jobs, links, notifications
from aligned_approval.domain import pagination
from aligned_approval.service_layer.decisions import not_found
from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_common.problems import Problem


async def list_rounds(
    pool: asyncpg.Pool,
    schema: str,
    identity: Identity,
    *,
    status: str | None,
    reviewer: str | None,
    min_age_hours: float | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    after = pagination.decode(cursor)
    opened_before = datetime.now(UTC) - timedelta(hours=min_age_hours) if min_age_hours else None
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        reviewer_filter = None
        if reviewer:
            user_id = identity.user_id if reviewer == "me" else reviewer
            role = (
                identity.role
                if reviewer == "me"
                else await uow.conn.fetchval(
                    "SELECT role FROM reviewers WHERE brand_id = $1 AND user_id = $2",
                    identity.brand_id,
                    user_id,
                )
            )
            reviewer_filter = (user_id, role)
        rows = await approvals.list_rounds(
            uow.conn,
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


async def get_round(
    pool: asyncpg.Pool, schema: str, identity: Identity, approval_id: uuid.UUID
) -> dict[str, Any]:
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        round_ = await approvals.get_round(uow.conn, identity.brand_id, approval_id)
        if round_ is None:
            raise not_found(approval_id)
        return {
            **round_,
            "rounds": await approvals.rounds_of_job(uow.conn, identity.brand_id, round_["job_id"]),
            "links": await links.of_round(uow.conn, identity.brand_id, approval_id),
            "escalations": await escalations.events_of(uow.conn, identity.brand_id, approval_id),
            "escalation_history": await escalations.history_of(uow.conn, identity.brand_id, approval_id),
            "notifications": await notifications.of_brand(uow.conn, identity.brand_id, approval_id),
        }


async def rounds_of_job(
    pool: asyncpg.Pool, schema: str, identity: Identity, job_id: uuid.UUID
) -> list[dict[str, Any]]:
    """404 for a job this brand does not have, the same whether it is another brand's or none."""
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        if not await jobs.known(uow.conn, identity.brand_id, job_id):
            raise Problem(404, "Job not found", detail=f"no job {job_id} in this brand")
        return await approvals.rounds_of_job(uow.conn, identity.brand_id, job_id)


async def reviewers(pool: asyncpg.Pool, schema: str, identity: Identity) -> list[dict[str, Any]]:
    """The brand's members as the gateway announced them: who can be asked to review."""
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await approvals.list_reviewers(uow.conn, identity.brand_id)
