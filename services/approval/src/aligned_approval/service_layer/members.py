"""Brands and reviewer lists from the gateway's identity events."""

from __future__ import annotations

from aligned_approval.domain.escalation import zone
from aligned_approval.service_layer.ports import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.gateway import (
    BrandArchived,
    BrandCreated,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
)


async def on_brand_created(uow: UnitOfWork, envelope: EventEnvelope, data: BrandCreated) -> None:
    # An unknown zone name would make every quiet-hours check guess; store what we can use.
    time_zone = zone(data.time_zone).key
    await uow.members.upsert_brand(envelope.brand_id, envelope.tenant_id, data.name, time_zone)


async def on_brand_archived(uow: UnitOfWork, envelope: EventEnvelope, data: BrandArchived) -> None:
    await uow.members.archive_brand(envelope.brand_id, envelope.tenant_id)


async def on_member_added(uow: UnitOfWork, envelope: EventEnvelope, data: MemberAdded) -> None:
    await uow.members.upsert_reviewer(envelope.brand_id, data.user_id, data.email, data.role)


async def on_member_role_changed(uow: UnitOfWork, envelope: EventEnvelope, data: MemberRoleChanged) -> None:
    await uow.members.upsert_reviewer(envelope.brand_id, data.user_id, None, data.new_role)


async def on_member_removed(uow: UnitOfWork, envelope: EventEnvelope, data: MemberRemoved) -> None:
    await uow.members.remove_reviewer(envelope.brand_id, data.user_id)
