"""Approval policies: CRUD and resolution for one connection and author."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_approval.adapters import approvals
from aligned_approval.domain.policy import resolve
from aligned_common import known_connections
from aligned_common.db import UnitOfWork
from aligned_common.events.approval import PolicyChanged, PolicyDeleted, PolicyRules
from aligned_common.identity import Identity, require_role
from aligned_common.problems import Problem

EDITORS = ("owner", "admin")


async def put(pool: asyncpg.Pool, schema: str, identity: Identity, **values: Any) -> dict[str, Any]:
    """Create or replace the policy of a scope. The change goes out as approval.policy_changed
    (outbox, same transaction): publishing decides the gate from its own copy (ADR 0006)."""
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        if values["connection_id"] is not None:  # the brand's own, not disconnected (its own copy)
            await known_connections.require_known(
                uow.conn, identity.brand_id, values["connection_id"], "connection_id"
            )
        previous = await approvals.policy_of_scope(
            uow.conn, identity.brand_id, values["connection_id"], values["user_id"]
        )
        policy = await approvals.upsert_policy(uow.conn, identity.brand_id, **values)
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


async def list_all(pool: asyncpg.Pool, schema: str, identity: Identity) -> list[dict[str, Any]]:
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await approvals.list_policies(uow.conn, identity.brand_id)


async def delete(pool: asyncpg.Pool, schema: str, identity: Identity, policy_id: uuid.UUID) -> None:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        deleted = await approvals.delete_policy(uow.conn, identity.brand_id, policy_id)
        if deleted is None:
            raise Problem(404, "Policy not found", detail=f"no policy {policy_id} in this brand")
        await uow.emit(
            PolicyDeleted(policy_id=policy_id, deleted_by=identity.user_id, previous=_rules(deleted)),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=str(policy_id),
        )


async def effective(
    pool: asyncpg.Pool, schema: str, identity: Identity, connection_id: uuid.UUID | None, user_id: str | None
) -> dict[str, Any]:
    """Does this author on this channel need approval, and who approves (for a frontend).
    Publishing does not ask: it keeps its own copy from approval.policy_changed / _deleted."""
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        known = await approvals.policies(uow.conn, identity.brand_id)
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
