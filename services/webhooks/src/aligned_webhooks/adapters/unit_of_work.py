"""The SQL unit of work: aligned_common's transaction (brand scope, outbox) with this service's
repositories on its connection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import asyncpg

from aligned_common.db import Role, UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_webhooks.adapters.delivery_store import SqlDeliveries
from aligned_webhooks.adapters.endpoint_store import SqlEndpoints
from aligned_webhooks.adapters.inbound_store import SqlInbound


def wake_channel(schema: str) -> str:
    """The NOTIFY channel the delivery loop listens on."""
    return f"{schema}_deliveries"


class SqlUnitOfWork:
    def __init__(self, transaction: UnitOfWork) -> None:
        self._transaction = transaction
        conn = transaction.conn
        self.endpoints = SqlEndpoints(conn)
        self.deliveries = SqlDeliveries(conn)
        self.inbound = SqlInbound(conn)

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        return await self._transaction.emit(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)

    async def wake_deliveries(self) -> None:
        # Delivered at commit: the delivery loop claims at once instead of at its next poll.
        await self._transaction.conn.execute(
            "SELECT pg_notify($1, '')", wake_channel(self._transaction.schema)
        )


class HasPool(Protocol):
    """aligned_common.app.Database, or anything else with a pool and a schema (a test's)."""

    @property
    def pool(self) -> asyncpg.Pool: ...

    schema: str


class SqlUnits:
    def __init__(self, database: HasPool) -> None:
        self._database = database

    @asynccontextmanager
    async def start(
        self, brand_id: uuid.UUID | None = None, role: Role = "app"
    ) -> AsyncIterator[SqlUnitOfWork]:
        database = self._database
        async with UnitOfWork(database.pool, database.schema, brand_id=brand_id, role=role) as transaction:
            yield SqlUnitOfWork(transaction)
