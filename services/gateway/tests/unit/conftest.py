"""In-memory fakes of the gateway's ports (service_layer/ports.py), as fixtures: the handlers'
rules run on them without a database, a broker or a service behind the gateway."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from aligned_common.identity import Identity
from aligned_gateway.adapters.upstream import UpstreamUnavailable


@dataclass
class FakeUpstreams:
    """service -> path -> (status, body); a service in `down` is unreachable."""

    answers: dict[str, dict[str, tuple[int, object]]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def get_json(
        self,
        service: str,
        path: str,
        identity: Identity,
        request_id: str | None,
        params: dict[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> tuple[int, object]:
        self.calls.append((service, path))
        if service in self.down:
            raise UpstreamUnavailable(service, "unreachable (ConnectError)", sent=False)
        return self.answers.get(service, {}).get(path, (404, {"title": "Not found"}))


@dataclass
class FakeLeaseStore:
    """The stream_leases table of every replica: lease id -> (brand, user); no expiry."""

    rows: dict[uuid.UUID, tuple[uuid.UUID, str]] = field(default_factory=dict)
    renewed: list[list[uuid.UUID]] = field(default_factory=list)
    failing: bool = False

    async def try_acquire(
        self,
        lease_id: uuid.UUID,
        brand_id: uuid.UUID,
        user_id: str,
        *,
        ttl_s: float,
        max_per_user: int,
        max_per_brand: int,
        released: list[uuid.UUID],
    ) -> str | None:
        for gone in released:
            self.rows.pop(gone, None)
        brand = [u for b, u in self.rows.values() if b == brand_id]
        if brand.count(user_id) >= max_per_user:
            return "user"
        if len(brand) >= max_per_brand:
            return "brand"
        self.rows[lease_id] = (brand_id, user_id)
        return None

    async def renew_and_release(self, held: list[uuid.UUID], released: list[uuid.UUID], ttl_s: float) -> None:
        if self.failing:
            raise ConnectionError("database unreachable")
        for gone in released:
            self.rows.pop(gone, None)
        self.renewed.append(sorted(held))


@dataclass
class FakeRoles:
    """(brand, user) -> role."""

    roles: dict[tuple[uuid.UUID, str], str] = field(default_factory=dict)

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None:
        return self.roles.get((brand_id, user_id))


@pytest.fixture
def upstreams() -> FakeUpstreams:
    return FakeUpstreams()


@pytest.fixture
def lease_store() -> FakeLeaseStore:
    return FakeLeaseStore()


@pytest.fixture
def roles() -> FakeRoles:
    return FakeRoles()
