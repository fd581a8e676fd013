"""The ports the service layer works through: repositories behind small protocols, a unit of
work that exposes them, and the factory of units. adapters/ has the SQL ones; the unit tests
have in-memory fakes (tests/unit/fakes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from aligned_common.units import Opener, Transaction
from aligned_webhooks.domain.deliveries import ClaimedDelivery, Sealed
from aligned_webhooks.domain.endpoints import Endpoint
from aligned_webhooks.domain.inbound import AccountOwner, VerifiedDelivery


class Endpoints(Protocol):
    async def insert(
        self,
        endpoint_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        url: str,
        description: str,
        event_types: list[str],
        secret: Sealed,
    ) -> Endpoint: ...

    async def get(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> Endpoint | None: ...

    async def list_for_brand(self, brand_id: uuid.UUID) -> list[Endpoint]: ...

    async def subscribed(self, brand_id: uuid.UUID, event_type: str) -> list[uuid.UUID]: ...

    async def update(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict[str, Any], now: datetime
    ) -> Endpoint | None: ...

    async def delete(self, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool: ...

    async def secrets(self, endpoint_id: uuid.UUID) -> tuple[Sealed, Sealed | None, datetime | None]: ...

    async def rotate(
        self,
        brand_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        new_secret: Sealed,
        previous: Sealed,
        expires_at: datetime,
        now: datetime,
    ) -> Endpoint | None: ...

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID, limit: int
    ) -> list[tuple[uuid.UUID, Sealed, Sealed | None]]: ...

    async def store_resealed(
        self, endpoint_id: uuid.UUID, current: Sealed, previous: Sealed | None
    ) -> None: ...

    async def count_under_old_keys(self, active_key_id: str) -> int: ...


class Deliveries(Protocol):
    async def insert_many(
        self,
        brand_id: uuid.UUID,
        endpoint_ids: list[uuid.UUID],
        event_id: uuid.UUID,
        event_type: str,
        payload: bytes,
    ) -> int: ...

    async def claim_due(
        self, *, limit: int, per_endpoint: int, busy: dict[uuid.UUID, int], lease_s: float, now: datetime
    ) -> list[ClaimedDelivery]: ...

    async def record_attempt(
        self,
        delivery: ClaimedDelivery,
        requested_at: datetime,
        status_code: int | None,
        latency_ms: float,
        excerpt: str | None,
        error: str | None,
    ) -> None: ...

    async def finish(
        self, delivery_id: uuid.UUID, status: str, status_code: int | None, error: str | None, now: datetime
    ) -> None: ...

    async def retry_later(
        self,
        delivery_id: uuid.UUID,
        delay_s: float,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None: ...

    async def replay_one(self, brand_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime) -> bool | None: ...

    async def replay_failed_since(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, since: datetime, now: datetime
    ) -> int: ...

    async def list_for_endpoint(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, status: str | None, limit: int
    ) -> list[Mapping[str, Any]]: ...

    async def attempts_of(
        self, brand_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> list[Mapping[str, Any]] | None: ...

    async def mark_endpoint_healthy(self, endpoint_id: uuid.UUID) -> None: ...

    async def mark_endpoint_failing(self, endpoint_id: uuid.UUID, now: datetime) -> datetime: ...

    async def disable_endpoint(self, endpoint_id: uuid.UUID, reason: str, now: datetime) -> str | None: ...


class Inbound(Protocol):
    async def owners_of(self, provider: str, account_id: str | None) -> list[AccountOwner]: ...

    async def insert_event(
        self, event_id: uuid.UUID, delivery: VerifiedDelivery, owners: list[AccountOwner]
    ) -> bool: ...

    async def remember_account(
        self,
        provider: str,
        account_id: str,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        connected_at: datetime,
    ) -> None: ...

    async def forget_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction: the repositories on it, `emit` for the events it commits with, and
    `wake_deliveries` to wake the delivery loop when it commits."""

    @property
    def endpoints(self) -> Endpoints: ...

    @property
    def deliveries(self) -> Deliveries: ...

    @property
    def inbound(self) -> Inbound: ...

    async def wake_deliveries(self) -> None: ...


# Where units of work come from: aligned_common.units.Opens over the database; the fakes'.
Units = Opener[UnitOfWork]
