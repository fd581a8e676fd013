"""One plain async function per command or event; they talk only to `uow.<repository>`."""

from __future__ import annotations

import uuid
from datetime import datetime

from aligned_example.domain.errors import BrandNotFound
from aligned_example.domain.model import Brand
from aligned_example.service_layer.ports import UnitOfWork


async def record_brand(uow: UnitOfWork, brand_id: uuid.UUID, name: str, at: datetime) -> None:
    brand = await uow.brands.get(brand_id)
    await uow.brands.save(Brand(brand_id, name, at) if brand is None else brand.named(name, at))


async def welcome(uow: UnitOfWork, brand_id: uuid.UUID, now: datetime) -> str:
    brand = await uow.brands.get(brand_id)
    if brand is None:
        raise BrandNotFound("no brand_created has reached this service")
    return brand.welcome(now)
