"""Approval policies: CRUD and resolution for one connection and author."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity, require_role
from aligned_common.problems import Problem

from aligned_approval.adapters import approvals
from aligned_approval.domain.policy import resolve

EDITORS = ("owner", "admin")


async def put(pool: asyncpg.Pool, schema: str, identity: Identity, **values: Any) -> dict[str, Any]:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await approvals.upsert_policy(uow.conn, identity.brand_id, **values)


async def list_all(pool: asyncpg.Pool, schema: str, identity: Identity) -> list[dict[str, Any]]:
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await approvals.list_policies(uow.conn, identity.brand_id)


async def delete(pool: asyncpg.Pool, schema: str, identity: Identity, policy_id: uuid.UUID) -> None:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        if not await approvals.delete_policy(uow.conn, identity.brand_id, policy_id):
            raise Problem(404, "Policy not found", detail=f"no policy {policy_id} in this brand")


async def effective(pool: asyncpg.Pool, schema: str, identity: Identity, connection_id: uuid.UUID | None,
                    user_id: str | None) -> dict[str, Any]:
    """What the gateway asks before creating a job: does this author on this channel need approval?"""
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        policy = resolve(await approvals.policies(uow.conn, identity.brand_id), connection_id, user_id)
    return {"mode": policy.mode.value, "requires_approval": policy.mode.value == "approval_required",
            "approver_roles": policy.approver_roles, "approver_users": policy.approver_users}
