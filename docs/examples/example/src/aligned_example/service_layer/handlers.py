"""One plain async function per command or event; they talk only to `uow.<repository>`."""

from __future__ import annotations

import uuid
from datetime import datetime

from aligned_example.domain.model import Brand, UnknownBrand
from aligned_example.service_layer.unit_of_work import UnitOfWork


async def record_brand(uow: UnitOfWork, brand_id: uuid.UUID, name: str, at: datetime) -> None:
    brand = await uow.brands.get(brand_id)
    await uow.brands.save(Brand(brand_id, name, at) if brand is None else brand.named(name, at))


async def welcome(uow: UnitOfWork, brand_id: uuid.UUID, now: datetime) -> str:
    brand = await uow.brands.get(brand_id)
    if brand is None:
        raise UnknownBrand(str(brand_id))
    return brand.welcome(now)
