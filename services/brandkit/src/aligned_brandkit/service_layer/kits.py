"""The kit's commands and reads; each change is a new version and its event, in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aligned_brandkit.domain.errors import KitNotFound, StaleVersion
from aligned_brandkit.domain.model import KitVersion, check_precondition, kit_diff
from aligned_brandkit.service_layer.ports import UnitOfWork
from aligned_common.events.brandkit import BrandKit, KitVersionPublished


async def current(uow: UnitOfWork, brand_id: uuid.UUID) -> KitVersion:
    found = await uow.kits.current(brand_id)
    if found is None:
        raise KitNotFound("this brand has no brand kit yet (PUT /v1/brand-kit makes the first version)")
    return found


async def version(uow: UnitOfWork, brand_id: uuid.UUID, number: int) -> KitVersion:
    found = await uow.kits.version(brand_id, number)
    if found is None:
        raise KitNotFound(f"no version {number} of this brand's kit")
    return found


async def put(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    tenant_id: uuid.UUID,
    kit: BrandKit,
    author_id: str,
    if_match: int | str | None,
    now: datetime,
    restored_from: int | None = None,
) -> KitVersion:
    """The next version (the first when there is none), if `if_match` names the current one."""
    existing = await uow.kits.current(brand_id, for_update=True)
    check_precondition(existing, if_match)
    new = (
        existing.next(kit, author_id, now, restored_from)
        if existing is not None
        else KitVersion(brand_id, 1, kit, author_id, now, restored_from)
    )
    if not await uow.kits.add(new):  # two first versions at once: the other one won
        raise StaleVersion("another first version of this kit was just stored; read it and retry", current=1)
    await uow.emit(
        KitVersionPublished(
            kit_version=new.version,
            kit=new.kit,
            author_id=author_id,
            created_at=now,
            restored_from=restored_from,
        ),
        brand_id=brand_id,
        tenant_id=tenant_id,
        subject=str(brand_id),
    )
    return new


async def restore(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    tenant_id: uuid.UUID,
    number: int,
    author_id: str,
    if_match: int | str | None,
    now: datetime,
) -> KitVersion:
    """An old version's content as the next version (history is never rewritten)."""
    old = await version(uow, brand_id, number)
    return await put(uow, brand_id, tenant_id, old.kit, author_id, if_match, now, restored_from=number)


async def compare(uow: UnitOfWork, brand_id: uuid.UUID, before: int, after: int) -> list[dict[str, Any]]:
    return kit_diff(await version(uow, brand_id, before), await version(uow, brand_id, after))
