"""The gateway's ports: what its handlers need from the outside, as small protocols. The
adapters implement them on PostgreSQL and httpx; tests/unit/fakes.py in memory."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from aligned_common.identity import Identity


class Roles(Protocol):
    """A member's current role in a brand (None: not a member)."""

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None: ...


class UpstreamReads(Protocol):
    """GET a service's JSON as the caller; raises adapters.upstream.UpstreamUnavailable."""

    async def get_json(
        self,
        service: str,
        path: str,
        identity: Identity,
        request_id: str | None,
        params: dict[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> tuple[int, object]: ...


class LeaseStore(Protocol):
    """The lease rows of open live event streams, shared by every replica."""

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
        """None when taken, else the scope whose cap is reached ("user" or "brand")."""
        ...

    async def renew_and_release(
        self, held: list[uuid.UUID], released: list[uuid.UUID], ttl_s: float
    ) -> None: ...
