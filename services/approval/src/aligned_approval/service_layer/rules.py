"""Escalation rules CRUD (validation lives in domain.escalation.RuleIn)."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_approval.domain.errors import DomainError, NotFound, require_role
from aligned_approval.domain.escalation import RuleIn
from aligned_approval.service_layer.ports import UnitOfWork, UnitsOfWork
from aligned_common.events.approval import EscalationRuleChanged
from aligned_common.identity import Identity

EDITORS = ("owner", "admin")
READERS = ("owner", "admin", "editor", "approver")


def _missing(rule_id: uuid.UUID) -> DomainError:
    return NotFound(title="Escalation rule not found", detail=f"no rule {rule_id} in this brand")


async def create(uows: UnitsOfWork, identity: Identity, rule: RuleIn) -> dict[str, Any]:
    require_role(identity, *EDITORS)
    async with uows(brand_id=identity.brand_id) as uow:
        row = await uow.escalations.insert_rule(identity.brand_id, rule)
        await _changed(uow, identity, row["id"], None, row)
        return row


async def replace(uows: UnitsOfWork, identity: Identity, rule_id: uuid.UUID, rule: RuleIn) -> dict[str, Any]:
    require_role(identity, *EDITORS)
    async with uows(brand_id=identity.brand_id) as uow:
        before = await uow.escalations.get_rule(identity.brand_id, rule_id, for_update=True)
        row = await uow.escalations.replace_rule(identity.brand_id, rule_id, rule)
        if row is None:
            raise _missing(rule_id)
        await _changed(uow, identity, rule_id, before, row)
    return row


async def get(uows: UnitsOfWork, identity: Identity, rule_id: uuid.UUID) -> dict[str, Any]:
    require_role(identity, *READERS)
    async with uows(brand_id=identity.brand_id) as uow:
        row = await uow.escalations.get_rule(identity.brand_id, rule_id)
    if row is None:
        raise _missing(rule_id)
    return row


async def list_all(uows: UnitsOfWork, identity: Identity) -> list[dict[str, Any]]:
    require_role(identity, *READERS)
    async with uows(brand_id=identity.brand_id) as uow:
        return await uow.escalations.list_rules(identity.brand_id)


async def delete(uows: UnitsOfWork, identity: Identity, rule_id: uuid.UUID) -> None:
    require_role(identity, *EDITORS)
    async with uows(brand_id=identity.brand_id) as uow:
        before = await uow.escalations.get_rule(identity.brand_id, rule_id, for_update=True)
        if not await uow.escalations.delete_rule(identity.brand_id, rule_id):
            raise _missing(rule_id)
        await _changed(uow, identity, rule_id, before, None)


async def _changed(
    uow: UnitOfWork,
    identity: Identity,
    rule_id: uuid.UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """The change's before/after for the audit trail, in the change's transaction."""

    def shown(row: dict[str, Any] | None) -> dict[str, Any] | None:
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
