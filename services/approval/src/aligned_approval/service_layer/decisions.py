"""Deciding a round: approve, reject or request changes, exactly once."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_approval.domain.decisions import (
    DECIDING_ROLES,
    EVENT_FOR,
    Decision,
    locked,
    may_decide,
    require_pending,
    status_after,
)
from aligned_approval.domain.errors import Forbidden, NotFound, require_role
from aligned_approval.service_layer import notify
from aligned_approval.service_layer.ports import UnitOfWork, UnitsOfWork
from aligned_common.identity import Identity


def not_found(approval_id: uuid.UUID) -> NotFound:
    return NotFound(title="Approval not found", detail=f"no approval {approval_id} in this brand")


async def decide_as_member(
    uows: UnitsOfWork,
    identity: Identity,
    approval_id: uuid.UUID,
    decision: Decision,
    comment: str | None,
    *,
    base_url: str,
) -> dict[str, Any]:
    require_role(identity, *DECIDING_ROLES)
    async with uows(brand_id=identity.brand_id) as uow:
        # FOR UPDATE: a concurrent decision waits here, then sees the round locked (409).
        round_ = await uow.rounds.get_round(identity.brand_id, approval_id, lock=True)
        if round_ is None:
            raise not_found(approval_id)
        if not may_decide(
            identity.role, identity.user_id, round_["approver_roles"], round_["approver_users"]
        ):
            raise Forbidden(
                title="Forbidden", detail="this round's policy does not name you or your role as an approver"
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
    decided = await uow.rounds.record_decision(
        round_["id"], status_after(round_, decision), decided_by, comment
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
    await uow.escalations.resolve_fired(decided["id"], decided["status"])
    await notify.decided(uow, decided, base_url)
    return decided


async def update_round(
    uows: UnitsOfWork,
    identity: Identity,
    approval_id: uuid.UUID,
    *,
    note: str | None,
    approver_users: list[str] | None,
) -> dict[str, Any]:
    """Edit a pending round's note or named approvers; a decided round is locked (409)."""
    require_role(identity, "owner", "admin", "editor")
    async with uows(brand_id=identity.brand_id) as uow:
        round_ = await uow.rounds.get_round(identity.brand_id, approval_id, lock=True)
        if round_ is None:
            raise not_found(approval_id)
        require_pending(round_)
        updated = await uow.rounds.update_round_details(approval_id, note=note, approver_users=approver_users)
        if updated is None:  # only reachable without the row lock
            raise locked(round_)
        return updated
