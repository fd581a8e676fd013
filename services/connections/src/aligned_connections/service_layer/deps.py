"""The connections service's one dependencies object: built once by `bootstrap.build()`, handed
to the HTTP routes (`dependency(Deps)`), the event consumers and the refresh loop alike."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_common.db import Role
from aligned_common.inbox import InboxEntry
from aligned_connections.adapters.platforms import PlatformAdapter
from aligned_connections.adapters.registry import PlatformRegistry
from aligned_connections.adapters.sharded_client import ShardedClient
from aligned_connections.adapters.vault import TokenVault
from aligned_connections.config import Settings
from aligned_connections.service_layer.ports import UnitOfWork, Units


@dataclass(eq=False)
class Deps:
    settings: Settings
    database: Database
    units: Units  # Opens(SqlUnitOfWork, database); the unit tests' fakes
    vault: TokenVault
    state_secret: bytes  # signs OAuth states
    platforms: PlatformRegistry
    http: ShardedClient  # the adapters' HTTP client, closed at shutdown
    clock: Clock
    _platform_slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def uow(self, brand_id: uuid.UUID | None = None, role: Role = "app") -> UnitOfWork:
        return self.units(brand_id, role=role)

    def finish(self, entry: InboxEntry) -> AbstractAsyncContextManager[UnitOfWork]:
        """The inbox entry's transaction: the outcome commits with the (handler, event) record."""
        return self.units.finish(entry)

    def platform(self, name: str) -> PlatformAdapter:
        """The adapter for `name`; UnknownPlatform (a domain error) when it is not configured."""
        return self.platforms.get(name)

    def platform_slot(self, platform: str) -> asyncio.Semaphore:
        """`async with deps.platform_slot(name):` around a platform call: at most
        `platform_max_in_flight` calls to one platform at once from this process."""
        slot = self._platform_slots.get(platform)
        if slot is None:
            slot = self._platform_slots[platform] = asyncio.Semaphore(self.settings.platform_max_in_flight)
        return slot

    async def close(self) -> None:
        await self.http.aclose()
