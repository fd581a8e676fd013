"""In-memory fakes of the service's ports (service_layer/unit_of_work.py)."""

from __future__ import annotations

import uuid

from aligned_example.domain.model import Brand


class FakeBrands:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Brand] = {}

    async def get(self, brand_id: uuid.UUID) -> Brand | None:
        return self.rows.get(brand_id)

    async def save(self, brand: Brand) -> None:
        self.rows[brand.brand_id] = brand


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.brands = FakeBrands()
