"""Publishing's unit of work over PostgreSQL: one transaction of aligned_common's UnitOfWork
(scope, inbox row, outbox, COMMIT) and a repository of each port over its connection.

A command opens one (`Deps.uow`); a consumer's handler gets the inbox's transaction and wraps it
(`SqlUnitOfWork(tx)`, already open), so what it writes commits with the inbox row.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

from aligned_common.app import Database
from aligned_common.db import Role, UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_publishing.adapters.dispatch_repo import SqlDispatch
from aligned_publishing.adapters.holds_repo import SqlHolds
from aligned_publishing.adapters.jobs_repo import SqlJobs, SqlMedia, SqlTargets
from aligned_publishing.adapters.media_repo import SqlAssets
from aligned_publishing.adapters.projections import SqlConnections, SqlPolicies
from aligned_publishing.adapters.views import SqlViews


class SqlUnitOfWork:
    def __init__(self, tx: UnitOfWork) -> None:
        self.tx = tx
        self.jobs = SqlJobs(tx)
        self.media = SqlMedia(tx)
        self.policies = SqlPolicies(tx)
        self.connections = SqlConnections(tx)
        self.targets = SqlTargets(tx)
        self.holds = SqlHolds(tx)
        self.dispatch = SqlDispatch(tx)
        self.views = SqlViews(tx)
        self.assets = SqlAssets(tx)

    async def __aenter__(self) -> SqlUnitOfWork:
        await self.tx.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.tx.__aexit__(exc_type, exc, tb)

    async def emit(self, data: EventData, **keys: Any) -> EventEnvelope:
        return await self.tx.emit(data, **keys)

    def event(self, data: EventData, **keys: Any) -> EventEnvelope:
        """An event written by the caller's own statement (repo.Writes.emit)."""
        return self.tx.event(data, **keys)


class SqlUnitOfWorkFactory:
    """Deps.uow: a unit of work on the service's database, scoped to a brand (row-level
    security) or, for cross-brand loops, in the worker role."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: Role = "app") -> SqlUnitOfWork:
        return SqlUnitOfWork(
            UnitOfWork(self._database.pool, self._database.schema, brand_id=brand_id, role=role)
        )
