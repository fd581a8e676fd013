"""The webhooks service's one dependencies object: built once by `bootstrap.build()`, handed to
the HTTP routes (`dependency(Deps)`), the event consumers and the delivery loop alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_common.db import Role
from aligned_common.ssrf import TargetPolicy
from aligned_webhooks.adapters.providers import ProviderRegistry
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.config import Settings
from aligned_webhooks.service_layer.ports import UnitOfWork, Units


@dataclass(eq=False)
class Deps:
    settings: Settings
    database: Database
    units: Units  # Opens(SqlUnitOfWork, database); the unit tests' fakes
    box: SecretBox  # endpoint secrets at rest
    providers: ProviderRegistry  # inbound: who may send us webhooks, and their secrets
    client: httpx.AsyncClient  # outbound deliveries, closed at shutdown
    clock: Clock  # every due, retry, disable and expiry decision asks it

    def uow(self, brand_id: uuid.UUID | None = None, role: Role = "app") -> UnitOfWork:
        return self.units(brand_id, role=role)

    def target_policy(self) -> TargetPolicy:
        """Read from the settings at each use: a URL is checked again at every try."""
        settings = self.settings
        return TargetPolicy(
            allow_loopback=settings.allow_loopback_targets, allow_http=settings.allow_http_targets
        )

    async def close(self) -> None:
        await self.client.aclose()
