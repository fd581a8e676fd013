"""The unit of work on PostgreSQL: aligned_common's transaction with the repositories on its connection."""

from __future__ import annotations

import uuid
from types import TracebackType

import asyncpg

from aligned_approval.adapters.approvals import PgMembers, PgPolicies, PgRounds
from aligned_approval.adapters.audit import PgAudit
from aligned_approval.adapters.client_settings import PgClientSettings
from aligned_approval.adapters.escalations import PgEscalations
from aligned_approval.adapters.jobs import PgJobs
from aligned_approval.adapters.known_connections import PgKnownConnections
from aligned_approval.adapters.links import PgLinks
from aligned_approval.adapters.notifications import PgNotifications
from aligned_common import db
from aligned_common.app import Database
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData


class PgUnitOfWork:
    """`async with PgUnitOfWork(db.UnitOfWork(...)) as uow:`, or `joined(tx)` inside a transaction
    somebody else opened (the inbox consumer's, whose commit also records the event as handled)."""

    def __init__(self, tx: db.UnitOfWork) -> None:
        self.tx = tx

    @classmethod
    def joined(cls, tx: db.UnitOfWork) -> PgUnitOfWork:
        uow = cls(tx)
        uow._bind(tx.conn)
        return uow

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.rounds = PgRounds(conn)
        self.members = PgMembers(conn)
        self.policies = PgPolicies(conn)
        self.escalations = PgEscalations(conn)
        self.notifications = PgNotifications(conn)
        self.clients = PgClientSettings(conn)
        self.links = PgLinks(conn)
        self.jobs = PgJobs(conn)
        self.audit = PgAudit(conn)
        self.connections = PgKnownConnections(conn)

    @property
    def schema(self) -> str:
        return self.tx.schema

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        return await self.tx.emit(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)

    async def __aenter__(self) -> PgUnitOfWork:
        await self.tx.__aenter__()
        self._bind(self.tx.conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.tx.__aexit__(exc_type, exc, tb)


class PgUnitsOfWork:
    """Opens units of work on the service's database (its pool exists once the app has started)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, *, brand_id: uuid.UUID | None = None, role: db.Role = "app") -> PgUnitOfWork:
        return PgUnitOfWork(
            db.UnitOfWork(self.database.pool, self.database.schema, brand_id=brand_id, role=role)
        )
