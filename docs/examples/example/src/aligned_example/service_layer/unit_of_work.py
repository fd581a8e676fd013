"""The ports the handlers use: small protocols, a real one in adapters/, a fake in tests/unit."""

from __future__ import annotations

import uuid
from typing import Protocol

from aligned_example.domain.model import Brand


class Brands(Protocol):
    async def get(self, brand_id: uuid.UUID) -> Brand | None: ...

    async def save(self, brand: Brand) -> None: ...


class UnitOfWork(Protocol):
    """One transaction of one brand, opened by the caller (a route, or the inbox for an event)."""

    @property
    def brands(self) -> Brands: ...  # read-only: a real and a fake repository both fit
