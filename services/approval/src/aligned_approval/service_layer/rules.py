"""Escalation rules CRUD (validation lives in domain.escalation.RuleIn)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from aligned_approval.adapters import escalations
from aligned_approval.domain.escalation import RuleIn
from aligned_common.db import UnitOfWork
from aligned_common.events.approval import EscalationRuleChanged
from aligned_common.identity import Identity, require_role
from aligned_common.problems import Problem

EDITORS = ("owner", "admin")
READERS = ("owner", "admin", "editor", "approver")


def _missing(rule_id: uuid.UUID) -> Problem:
    return Problem(404, "Escalation rule not found", detail=f"no rule {rule_id} in this brand")


async def create(pool: asyncpg.Pool, schema: str, identity: Identity, rule: RuleIn) -> dict[str, Any]:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        row = await escalations.insert_rule(uow.conn, identity.brand_id, rule)
        await _changed(uow, identity, row["id"], None, row)
        return row


async def replace(
    pool: asyncpg.Pool, schema: str, identity: Identity, rule_id: uuid.UUID, rule: RuleIn
) -> dict[str, Any]:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        before = await escalations.get_rule(uow.conn, identity.brand_id, rule_id, for_update=True)
        row = await escalations.replace_rule(uow.conn, identity.brand_id, rule_id, rule)
        if row is None:
            raise _missing(rule_id)
        await _changed(uow, identity, rule_id, before, row)
    return row


async def get(pool: asyncpg.Pool, schema: str, identity: Identity, rule_id: uuid.UUID) -> dict[str, Any]:
    require_role(identity, *READERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        row = await escalations.get_rule(uow.conn, identity.brand_id, rule_id)
    if row is None:
        raise _missing(rule_id)
    return row


async def list_all(pool: asyncpg.Pool, schema: str, identity: Identity) -> list[dict[str, Any]]:
    require_role(identity, *READERS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        return await escalations.list_rules(uow.conn, identity.brand_id)


async def delete(pool: asyncpg.Pool, schema: str, identity: Identity, rule_id: uuid.UUID) -> None:
    require_role(identity, *EDITORS)
    async with UnitOfWork(pool, schema, brand_id=identity.brand_id) as uow:
        before = await escalations.get_rule(uow.conn, identity.brand_id, rule_id, for_update=True)
        if not await escalations.delete_rule(uow.conn, identity.brand_id, rule_id):
            raise _missing(rule_id)
        await _changed(uow, identity, rule_id, before, None)


async def _changed(
    uow: UnitOfWork, identity: Identity, rule_id: uuid.UUID, before: dict | None, after: dict | None
) -> None:
    """The change's before/after for the audit trail, in the change's transaction."""

    def shown(row: dict | None) -> dict | None:
        return (
            {k: v for k, v in row.items() if k not in ("brand_id", "created_at", "updated_at")}
            if row
            else None
        )

    await uow.emit(
        EscalationRuleChanged(
            rule_id=rule_id, changed_by=identity.user_id, before=shown(before), after=shown(after)
        ),
        brand_id=identity.brand_id,
        tenant_id=identity.tenant_id,
        subject=str(rule_id),
    )
