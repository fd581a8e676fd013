"""The ports the handlers use: small protocols, the SQL ones in adapters/, fakes in tests/unit."""

from __future__ import annotations

import uuid
from typing import Protocol

from aligned_brandkit.domain.model import KitVersion
from aligned_common.units import Opener, Transaction


class Kits(Protocol):
    async def current(self, brand_id: uuid.UUID, *, for_update: bool = False) -> KitVersion | None: ...

    async def version(self, brand_id: uuid.UUID, version: int) -> KitVersion | None: ...

    async def versions(self, brand_id: uuid.UUID, before: int | None, limit: int) -> list[KitVersion]:
        """Newest first, those below `before` when given."""

    async def add(self, version: KitVersion) -> bool:
        """Store a new version and make it the current one. False when another writer got there
        first (the first version of a brand, raced): nothing is stored then."""


class UnitOfWork(Transaction, Protocol):
    @property
    def kits(self) -> Kits: ...


Units = Opener[UnitOfWork]
