"""In-memory fakes of the webhooks service's ports (service_layer/ports.py), so the delivery and
endpoint rules run without PostgreSQL, Kafka or a receiver.

The fakes keep the SQL adapters' meaning, not their mechanics: a repository write lands at
once (there is no rollback), and a unit of work's events are kept only when it commits.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from aligned_common.app import Database
from aligned_common.keyring import Sealed
from aligned_testing.clock import StillClock
from aligned_testing.fakes import FakeTables, FakeTransaction
from aligned_webhooks.adapters.providers import ProviderRegistry
from aligned_webhooks.adapters.secret_box import SecretBox
from aligned_webhooks.config import Settings
from aligned_webhooks.domain.deliveries import ClaimedDelivery
from aligned_webhooks.domain.endpoints import Endpoint
from aligned_webhooks.domain.inbound import AccountOwner, VerifiedDelivery
from aligned_webhooks.service_layer.deps import Deps

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Store(FakeTables):
    """What the database would hold, and what committed."""

    endpoints: dict[uuid.UUID, Endpoint] = field(default_factory=dict)
    # endpoint id -> (current, previous): the sealed secrets beside the endpoint's row
    secrets: dict[uuid.UUID, tuple[Sealed, Sealed | None]] = field(default_factory=dict)
    deliveries: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    wakes: int = 0  # delivery loop wake-ups sent at commit


class FakeEndpoints:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _change(self, endpoint_id: uuid.UUID, **changes: Any) -> Endpoint:
        changed = dataclasses.replace(self._store.endpoints[endpoint_id], **changes)
        self._store.endpoints[endpoint_id] = changed
        return changed

    async def insert(
        self,
        endpoint_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        url: str,
        description: str,
        event_types: list[str],
        secret: Sealed,
    ) -> Endpoint:
        endpoint = Endpoint(
            id=endpoint_id,
            brand_id=brand_id,
            tenant_id=tenant_id,
            url=url,
            description=description,
            event_types=event_types,
            enabled=True,
            disabled_reason=None,
            disabled_at=None,
            previous_secret_expires_at=None,
            failing_since=None,
            created_at=NOW,
            updated_at=NOW,
        )
        self._store.endpoints[endpoint_id] = endpoint
        self._store.secrets[endpoint_id] = (secret, None)
        return endpoint

    async def get(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
    ) -> Endpoint | None:
        found = self._store.endpoints.get(endpoint_id)
        return found if found is not None and found.brand_id == brand_id else None

    async def list_for_brand(self, brand_id: uuid.UUID) -> list[Endpoint]:
        return [e for e in self._store.endpoints.values() if e.brand_id == brand_id]

    async def subscribed(self, brand_id: uuid.UUID, event_type: str) -> list[uuid.UUID]:
        return [
            e.id
            for e in await self.list_for_brand(brand_id)
            if e.enabled and (not e.event_types or event_type in e.event_types)
        ]

    async def update(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict[str, Any], now: datetime
    ) -> Endpoint | None:
        if await self.get(brand_id, endpoint_id) is None:
            return None
        return self._change(endpoint_id, updated_at=now, **changes)

    async def delete(self, brand_id: uuid.UUID, endpoint_id: uuid.UUID) -> bool:
        if await self.get(brand_id, endpoint_id) is None:
            return False
        del self._store.endpoints[endpoint_id]
        return True

    async def secrets(self, endpoint_id: uuid.UUID) -> tuple[Sealed, Sealed | None, datetime | None]:
        current, previous = self._store.secrets[endpoint_id]
        return current, previous, self._store.endpoints[endpoint_id].previous_secret_expires_at

    async def rotate(
        self,
        brand_id: uuid.UUID,
        endpoint_id: uuid.UUID,
        new_secret: Sealed,
        previous: Sealed,
        expires_at: datetime,
        now: datetime,
    ) -> Endpoint | None:
        if await self.get(brand_id, endpoint_id) is None:
            return None
        self._store.secrets[endpoint_id] = (new_secret, previous)
        return self._change(endpoint_id, previous_secret_expires_at=expires_at, updated_at=now)

    async def under_old_keys(
        self, active_key_id: str, after_id: uuid.UUID, limit: int
    ) -> list[tuple[uuid.UUID, Sealed, Sealed | None]]:
        raise NotImplementedError("key rotation is tested on PostgreSQL")

    async def store_resealed(self, endpoint_id: uuid.UUID, current: Sealed, previous: Sealed | None) -> None:
        raise NotImplementedError("key rotation is tested on PostgreSQL")

    async def count_under_old_keys(self, active_key_id: str) -> int:
        raise NotImplementedError("key rotation is tested on PostgreSQL")


class FakeDeliveries:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def insert_many(
        self,
        brand_id: uuid.UUID,
        endpoint_ids: list[uuid.UUID],
        event_id: uuid.UUID,
        event_type: str,
        payload: bytes,
    ) -> int:
        created = 0
        for endpoint_id in endpoint_ids:
            if any(
                (d["endpoint_id"], d["event_id"]) == (endpoint_id, event_id)
                for d in self._store.deliveries.values()
            ):
                continue  # one delivery per endpoint and event
            delivery_id = uuid.uuid4()
            self._store.deliveries[delivery_id] = {
                "id": delivery_id,
                "brand_id": brand_id,
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "round_attempts": 0,
                "next_attempt_at": NOW,
                "last_status": None,
                "last_error": None,
                "finished_at": None,
                "created_at": NOW,
            }
            created += 1
        return created

    async def claim_due(
        self, *, limit: int, per_endpoint: int, busy: dict[uuid.UUID, int], lease_s: float, now: datetime
    ) -> list[ClaimedDelivery]:
        raise NotImplementedError("claiming (SKIP LOCKED, leases) is tested on PostgreSQL")

    async def record_attempt(
        self,
        delivery: ClaimedDelivery,
        requested_at: datetime,
        status_code: int | None,
        latency_ms: float,
        excerpt: str | None,
        error: str | None,
    ) -> None:
        self._store.attempts.append(
            {
                "delivery_id": delivery.id,
                "number": delivery.attempts + 1,
                "status_code": status_code,
                "error": error,
            }
        )

    async def finish(
        self, delivery_id: uuid.UUID, status: str, status_code: int | None, error: str | None, now: datetime
    ) -> None:
        row = self._store.deliveries[delivery_id]
        row.update(
            status=status,
            attempts=row["attempts"] + 1,
            round_attempts=row["round_attempts"] + 1,
            last_status=status_code,
            last_error=error,
            finished_at=now,
        )

    async def retry_later(
        self,
        delivery_id: uuid.UUID,
        delay_s: float,
        status_code: int | None,
        error: str | None,
        now: datetime,
    ) -> None:
        row = self._store.deliveries[delivery_id]
        row.update(
            attempts=row["attempts"] + 1,
            round_attempts=row["round_attempts"] + 1,
            next_attempt_at=now + timedelta(seconds=delay_s),
            last_status=status_code,
            last_error=error,
        )

    async def replay_one(self, brand_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime) -> bool | None:
        row = self._store.deliveries.get(delivery_id)
        if row is None or row["brand_id"] != brand_id:
            return None
        if row["status"] == "pending":
            return False
        row.update(status="pending", round_attempts=0, next_attempt_at=now, finished_at=None)
        return True

    async def replay_failed_since(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, since: datetime, now: datetime
    ) -> int:
        replayed = 0
        for row in self._store.deliveries.values():
            mine = (row["brand_id"], row["endpoint_id"]) == (brand_id, endpoint_id)
            if mine and row["status"] == "failed" and row["created_at"] >= since:
                row.update(status="pending", round_attempts=0, next_attempt_at=now, finished_at=None)
                replayed += 1
        return replayed

    async def list_for_endpoint(
        self, brand_id: uuid.UUID, endpoint_id: uuid.UUID, status: str | None, limit: int
    ) -> list[Mapping[str, Any]]:
        return [
            row
            for row in self._store.deliveries.values()
            if (row["brand_id"], row["endpoint_id"]) == (brand_id, endpoint_id)
            and status in (None, row["status"])
        ][:limit]

    async def attempts_of(
        self, brand_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> list[Mapping[str, Any]] | None:
        row = self._store.deliveries.get(delivery_id)
        if row is None or row["brand_id"] != brand_id:
            return None
        return [a for a in self._store.attempts if a["delivery_id"] == delivery_id]

    async def mark_endpoint_healthy(self, endpoint_id: uuid.UUID) -> None:
        endpoint = self._store.endpoints[endpoint_id]
        self._store.endpoints[endpoint_id] = dataclasses.replace(endpoint, failing_since=None)

    async def mark_endpoint_failing(self, endpoint_id: uuid.UUID, now: datetime) -> datetime:
        endpoint = self._store.endpoints[endpoint_id]
        since = endpoint.failing_since or now
        self._store.endpoints[endpoint_id] = dataclasses.replace(endpoint, failing_since=since)
        return since

    async def disable_endpoint(self, endpoint_id: uuid.UUID, reason: str, now: datetime) -> str | None:
        endpoint = self._store.endpoints[endpoint_id]
        if not endpoint.enabled:
            return None
        self._store.endpoints[endpoint_id] = dataclasses.replace(
            endpoint, enabled=False, disabled_reason=reason, disabled_at=now, updated_at=now
        )
        return endpoint.url


class FakeInbound:
    def __init__(self, store: Store) -> None:
        self._store = store
        self.accounts: dict[tuple[str, str], list[AccountOwner]] = {}

    async def owners_of(self, provider: str, account_id: str | None) -> list[AccountOwner]:
        return self.accounts.get((provider, account_id or ""), [])

    async def insert_event(
        self, event_id: uuid.UUID, delivery: VerifiedDelivery, owners: list[AccountOwner]
    ) -> bool:
        return True

    async def remember_account(
        self,
        provider: str,
        account_id: str,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        connected_at: datetime,
    ) -> None:
        self.accounts.setdefault((provider, account_id), []).append(AccountOwner(brand_id, tenant_id))

    async def forget_account(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        pass


class FakeUnitOfWork(FakeTransaction):
    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._store = store
        self.endpoints = FakeEndpoints(store)
        self.deliveries = FakeDeliveries(store)
        self.inbound = FakeInbound(store)
        self.woken = False

    async def wake_deliveries(self) -> None:
        self.woken = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        if self.committed:  # NOTIFY is delivered at commit
            self._store.wakes += self.woken


class FakeUnits:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: str = "app") -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)


@dataclass
class World:
    deps: Deps
    store: Store
    clock: StillClock

    async def endpoint(self, url: str = "https://hooks.example.com/in") -> Endpoint:
        """A registered endpoint (as `create` stores it), with a secret sealed in the box."""
        endpoint_id = uuid.uuid4()
        async with self.deps.uow() as uow:
            return await uow.endpoints.insert(
                endpoint_id,
                uuid.uuid4(),
                uuid.uuid4(),
                url,
                "",
                [],
                self.deps.box.seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", str(endpoint_id)),
            )

    async def claimed(self, endpoint: Endpoint) -> ClaimedDelivery:
        """A delivery to `endpoint` as the loop would claim it now (its stored attempts so far)."""
        rows = [d for d in self.store.deliveries.values() if d["endpoint_id"] == endpoint.id]
        if not rows:
            async with self.deps.uow(endpoint.brand_id) as uow:
                await uow.deliveries.insert_many(
                    endpoint.brand_id, [endpoint.id], uuid.uuid4(), "publishing.job_published", b"{}"
                )
            rows = [d for d in self.store.deliveries.values() if d["endpoint_id"] == endpoint.id]
        [row] = rows
        current, previous = self.store.secrets[endpoint.id]
        return ClaimedDelivery(
            id=row["id"],
            brand_id=endpoint.brand_id,
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            event_id=row["event_id"],
            payload=row["payload"],
            attempts=row["attempts"],
            round_attempts=row["round_attempts"],
            secret=current,
            previous_secret=previous,
            previous_secret_expires_at=self.store.endpoints[endpoint.id].previous_secret_expires_at,
        )


def world(**settings: Any) -> World:
    values: dict[str, Any] = {
        "encryption_key": base64.b64encode(b"w" * 32).decode(),
        "retry_schedule_s": [0, 5, 300, 1800],
        "retry_jitter": 0.0,
        "disable_after_failing_s": 3600,
    }
    values.update(settings)
    config = Settings(**values)
    clock = StillClock(NOW)
    store = Store()
    deps = Deps(
        settings=config,
        database=Database(config, "webhooks"),  # never opened: the fakes stand in for it
        units=FakeUnits(store),
        box=SecretBox(values["encryption_key"]),
        providers=ProviderRegistry.from_secrets({}),
        client=httpx.AsyncClient(),  # never used: the tests hand record_outcome what a send answered
        clock=clock,
    )
    return World(deps, store, clock)
