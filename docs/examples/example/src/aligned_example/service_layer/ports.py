"""The ports the handlers use: small protocols, the SQL ones in adapters/, fakes in tests/unit."""

from __future__ import annotations

import uuid
from typing import Protocol

from aligned_common.units import Opener, Transaction
from aligned_example.domain.model import Brand


class Brands(Protocol):
    async def get(self, brand_id: uuid.UUID) -> Brand | None: ...

    async def save(self, brand: Brand) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction of one brand (`emit`, `async with`) and the repositories on it."""

    @property
    def brands(self) -> Brands: ...  # read-only: a real and a fake repository both fit


Units = Opener[UnitOfWork]  # `async with deps.uow(brand_id) as uow:` (role="worker" spans brands)
