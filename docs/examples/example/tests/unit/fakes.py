"""In-memory fakes of service_layer/ports.py: the unit of work commits or rolls back its store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aligned_example.domain.model import Brand
from aligned_testing.fakes import FakeTables, FakeTransaction


@dataclass
class FakeStore(FakeTables):
    brands: dict[uuid.UUID, Brand] = field(default_factory=dict)


class FakeBrands:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, brand_id: uuid.UUID) -> Brand | None:
        return self.store.brands.get(brand_id)

    async def save(self, brand: Brand) -> None:
        self.store.brands[brand.brand_id] = brand


class FakeUnitOfWork(FakeTransaction):
    def __init__(self) -> None:
        store = FakeStore()
        super().__init__(store)
        self.brands = FakeBrands(store)
