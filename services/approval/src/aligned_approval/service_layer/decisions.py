"""Deciding a round: approve, reject or request changes, exactly once."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_approval.adapters import approvals, escalations
from aligned_approval.domain.decisions import (
    DECIDING_ROLES,
    EVENT_FOR,
    STATUS_AFTER,
    Decision,
    Status,
    may_decide,
)
from aligned_approval.service_layer import notify
from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity, require_role
from aligned_common.problems import Problem


def not_found(approval_id: uuid.UUID) -> Problem:
    return Problem(404, "Approval not found", detail=f"no approval {approval_id} in this brand")


def locked(round_: dict[str, Any]) -> Problem:
    return Problem(
        409,
        "Approval round is locked",
        detail=f"round {round_['round']} is already {round_['status']}",
        status_now=round_["status"],
    )


async def decide_as_member(
    pool: asyncpg.Pool,
    schema: str,
    identity: Identity,
    approval_id: uuid.UUID,
    decision: Decision,
    comment: str | None,
    *,
    base_url: str,
) -> dict[str, Any]:
    require_role(identity, *DECIDING_ROLES)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        # FOR UPDATE: a concurrent decision waits here, then sees the round locked (409).
        round_ = await approvals.get_round(uow.conn, identity.brand_id, approval_id, lock=True)
        if round_ is None:
            raise not_found(approval_id)
        if not may_decide(
            identity.role, identity.user_id, round_["approver_roles"], round_["approver_users"]
        ):
            raise Problem(
                403, "Forbidden", detail="this round's policy does not name you or your role as an approver"
            )
        return await apply_decision(uow, round_, decision, comment, identity.user_id, base_url=base_url)


async def apply_decision(
    uow: UnitOfWork,
    round_: dict[str, Any],
    decision: Decision,
    comment: str | None,
    decided_by: str,
    *,
    base_url: str,
) -> dict[str, Any]:
    """Locks the round, emits the decision event, ends escalations and tells the author."""
    if round_["status"] != Status.PENDING:
        raise locked(round_)
    decided = await approvals.record_decision(
        uow.conn, round_["id"], STATUS_AFTER[decision], decided_by, comment
    )
    if decided is None:  # only reachable without the row lock; kept so the rule holds regardless
        raise locked(round_)
    event = EVENT_FOR[decision](
        approval_id=decided["id"],
        job_id=decided["job_id"],
        round=decided["round"],
        decided_by=decided_by,
        comment=comment,
        content_hash=decided["content_hash"],  # publishing opens the gate only for this exact content
    )
    await uow.emit(
        event, brand_id=decided["brand_id"], tenant_id=decided["tenant_id"], subject=str(decided["id"])
    )
    await escalations.resolve_fired(uow.conn, decided["id"], decided["status"])
    await notify.decided(uow.conn, decided, base_url)
    return decided


async def update_round(
    pool: asyncpg.Pool,
    schema: str,
    identity: Identity,
    approval_id: uuid.UUID,
    *,
    note: str | None,
    approver_users: list[str] | None,
) -> dict[str, Any]:
    """Edit a pending round's note or named approvers; a decided round is locked (409)."""
    require_role(identity, "owner", "admin", "editor")
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        round_ = await approvals.get_round(uow.conn, identity.brand_id, approval_id, lock=True)
        if round_ is None:
            raise not_found(approval_id)
        if round_["status"] != Status.PENDING:
            raise locked(round_)
        return await approvals.update_round_details(
            uow.conn, approval_id, note=note, approver_users=approver_users
        )
