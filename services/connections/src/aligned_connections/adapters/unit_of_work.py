"""The SQL unit of work: aligned_common's transaction (brand scope, outbox) with this service's
repositories on its connection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aligned_common.app import Database
from aligned_common.db import Role, UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.inbox import InboxEntry
from aligned_connections.adapters.attempts_repo import SqlAttempts
from aligned_connections.adapters.connections_repo import SqlConnections
from aligned_connections.adapters.oauth_states_repo import SqlOAuthStates


class SqlUnitOfWork:
    def __init__(self, transaction: UnitOfWork) -> None:
        self._transaction = transaction
        conn = transaction.conn
        self.connections = SqlConnections(conn)
        self.attempts = SqlAttempts(conn)
        self.oauth_states = SqlOAuthStates(conn)

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        return await self._transaction.emit(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)


class SqlUnits:
    def __init__(self, database: Database) -> None:
        self._database = database

    @asynccontextmanager
    async def start(
        self, brand_id: uuid.UUID | None = None, role: Role = "app"
    ) -> AsyncIterator[SqlUnitOfWork]:
        database = self._database
        async with UnitOfWork(database.pool, database.schema, brand_id=brand_id, role=role) as transaction:
            yield SqlUnitOfWork(transaction)

    @asynccontextmanager
    async def finish(self, entry: InboxEntry) -> AsyncIterator[SqlUnitOfWork]:
        async with entry.finish() as transaction:
            yield SqlUnitOfWork(transaction)
