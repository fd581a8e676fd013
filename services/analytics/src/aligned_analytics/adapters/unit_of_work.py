"""The unit of work on PostgreSQL: aligned_common's transaction with the repositories on its connection."""

from __future__ import annotations

import uuid
from types import TracebackType

import asyncpg

from aligned_analytics.adapters.accounts import PgAccounts
from aligned_analytics.adapters.advisor import PgAdvisor
from aligned_analytics.adapters.brands import PgBrands
from aligned_analytics.adapters.goals import PgGoals
from aligned_analytics.adapters.metric_store import PgMetrics
from aligned_analytics.adapters.partitions import PgPartitions
from aligned_analytics.adapters.plans import PgPlans
from aligned_analytics.adapters.posts import PgPosts
from aligned_analytics.adapters.reports import PgReports
from aligned_analytics.adapters.sync_logs import PgSyncLogs
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
        self.accounts = PgAccounts(conn)
        self.advisor = PgAdvisor(conn)
        self.brands = PgBrands(conn)
        self.goals = PgGoals(conn)
        self.metrics = PgMetrics(conn)
        self.partitions = PgPartitions(conn)
        self.plans = PgPlans(conn)
        self.posts = PgPosts(conn)
        self.reports = PgReports(conn)
        self.syncs = PgSyncLogs(conn)

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
    """Opens units of work on the service's database (its pools exist once the app has started);
    `replica`: on the read pool, for reports that tolerate a few seconds of replication lag."""

    def __init__(self, database: Database, *, replica: bool = False) -> None:
        self.database = database
        self.replica = replica

    def __call__(self, *, brand_id: uuid.UUID | None = None, role: db.Role = "app") -> PgUnitOfWork:
        pool = self.database.read_pool if self.replica else self.database.pool
        return PgUnitOfWork(db.UnitOfWork(pool, self.database.schema, brand_id=brand_id, role=role))
