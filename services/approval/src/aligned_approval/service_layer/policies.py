"""Approval policies: CRUD and resolution for one connection and author."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_approval.domain.errors import Invalid, NotFound, require_role
from aligned_approval.domain.policy import resolve
from aligned_approval.service_layer.ports import UnitsOfWork
from aligned_common.events.approval import PolicyChanged, PolicyDeleted, PolicyRules
from aligned_common.identity import Identity

EDITORS = ("owner", "admin")


async def put(uows: UnitsOfWork, identity: Identity, **values: Any) -> dict[str, Any]:
    """Create or replace the policy of a scope. The change goes out as approval.policy_changed
    (outbox, same transaction): publishing decides the gate from its own copy (ADR 0006)."""
    require_role(identity, *EDITORS)
    async with uows(brand_id=identity.brand_id) as uow:
        if values["connection_id"] is not None:  # the brand's own, not disconnected (its own copy)
            problem = await uow.connections.problem_with(identity.brand_id, values["connection_id"])
            if problem is not None:
                code, message = problem
                raise Invalid(
                    title="Invalid request",
                    detail=f"connection_id: {message}",
                    errors=[{"field": "connection_id", "message": message, "code": code}],
                )
        previous = await uow.policies.policy_of_scope(
            identity.brand_id, values["connection_id"], values["user_id"]
        )
        policy = await uow.policies.upsert_policy(identity.brand_id, **values)
        await uow.emit(
            PolicyChanged(
                policy_id=policy["id"],
                connection_id=policy["connection_id"],
                user_id=policy["user_id"],
                mode=policy["mode"],
                approver_roles=list(policy["approver_roles"]),
                approver_users=list(policy["approver_users"]),
                waiver_roles=list(policy["waiver_roles"]),
                changed_by=identity.user_id,
                previous=_rules(previous),
            ),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=str(policy["id"]),
        )
        return policy


def _rules(policy: dict[str, Any] | None) -> PolicyRules | None:
    if policy is None:
        return None
    return PolicyRules(
        mode=policy["mode"],
        approver_roles=list(policy["approver_roles"]),
        approver_users=list(policy["approver_users"]),
        waiver_roles=list(policy["waiver_roles"]),
    )


async def list_all(uows: UnitsOfWork, identity: Identity) -> list[dict[str, Any]]:
    async with uows(brand_id=identity.brand_id) as uow:
        return await uow.policies.list_policies(identity.brand_id)


async def delete(uows: UnitsOfWork, identity: Identity, policy_id: uuid.UUID) -> None:
    require_role(identity, *EDITORS)
    async with uows(brand_id=identity.brand_id) as uow:
        deleted = await uow.policies.delete_policy(identity.brand_id, policy_id)
        if deleted is None:
            raise NotFound(title="Policy not found", detail=f"no policy {policy_id} in this brand")
        await uow.emit(
            PolicyDeleted(policy_id=policy_id, deleted_by=identity.user_id, previous=_rules(deleted)),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=str(policy_id),
        )


async def effective(
    uows: UnitsOfWork, identity: Identity, connection_id: uuid.UUID | None, user_id: str | None
) -> dict[str, Any]:
    """Does this author on this channel need approval, and who approves (for a frontend).
    Publishing does not ask: it keeps its own copy from approval.policy_changed / _deleted."""
    async with uows(brand_id=identity.brand_id) as uow:
        known = await uow.policies.policies(identity.brand_id)
    policy = resolve(known, connection_id, user_id)
    if not any(p.applies_to(connection_id, user_id) for p in known):
        # No policy covers it: publishing leaves it to the author's requires_approval (ADR 0006);
        # a round, if asked for, is decided by the default approver roles.
        return {
            "mode": None,
            "requires_approval": False,
            "approver_roles": policy.approver_roles,
            "approver_users": policy.approver_users,
        }
    return {
        "mode": policy.mode.value,
        "requires_approval": policy.mode.value == "approval_required",
        "approver_roles": policy.approver_roles,
        "approver_users": policy.approver_users,
    }
