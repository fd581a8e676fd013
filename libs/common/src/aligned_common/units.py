"""A service's unit of work: aligned_common.db's transaction with the service's repositories
bound to its connection, so handlers reach `uow.<repo>` and never a connection (issue 21).

- In the service layer's ports, `class UnitOfWork(Transaction, Protocol)` adds the repositories
  (read-only properties) to what every unit of work has: `emit`, and `async with`.
- In the adapters, each repository is a `Repository` (its SQL on the connection it is given),
  `class SqlUnitOfWork(BoundUnitOfWork)` binds them (`bind(conn)`), and
  `Opens(SqlUnitOfWork, database)` opens one per `uows(brand_id=...)`.
- A consumer's handler runs in the inbox's own transaction (it also records the event as
  handled): `joined(SqlUnitOfWork, handler)` hands it that transaction as the service's unit of work
  (`SqlUnitOfWork.joined(tx)` where the handler is written out). A `transaction=False` handler
  writes its outcome in `uows.finish(entry)`: the entry's transaction as the service's unit of work.
- `emit` writes an event to the outbox at once; `event` makes one that the caller's own
  statement writes (db.outbox_insert), for a hot path that counts its round trips.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import asyncpg

from aligned_common import db
from aligned_common.app import Database
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.inbox import InboxEntry


class Transaction(Protocol):
    """What every service's unit of work has besides its repositories."""

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope: ...

    def event(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        """An event the caller's own statement writes (db.outbox_insert, inside a repository)."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


U_co = TypeVar("U_co", covariant=True)


class Opener(Protocol[U_co]):
    """Opens a unit of work: `async with uows(brand_id=...) as uow:`; role "worker" spans brands."""

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: db.Role = "app") -> U_co: ...


class Repository:
    """Base of a service's SQL repository: its statements run on the unit of work's connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn


class BoundUnitOfWork:
    """One transaction (db.UnitOfWork) with the repositories `bind` puts on its connection."""

    def __init__(self, tx: db.UnitOfWork) -> None:
        self.tx = tx

    def bind(self, conn: asyncpg.Connection) -> None:
        raise NotImplementedError

    @classmethod
    def joined(cls, tx: db.UnitOfWork) -> Self:
        """Inside a transaction somebody else opened (and commits): the inbox consumer's."""
        uow = cls(tx)
        uow.bind(tx.conn)
        return uow

    @property
    def schema(self) -> str:
        return self.tx.schema

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        return await self.tx.emit(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)

    def event(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        """An event the caller's own statement writes (db.outbox_insert); COMMIT wakes the relay."""
        return self.tx.event(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)

    async def __aenter__(self) -> Self:
        await self.tx.__aenter__()
        self.bind(self.tx.conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.tx.__aexit__(exc_type, exc, tb)


U = TypeVar("U", bound=BoundUnitOfWork)


class Opens(Generic[U]):
    """Opens units of work of `kind` on the service's database (its pools exist once the app has
    started); `replica`: on the read pool, for reads that tolerate replication lag."""

    def __init__(self, kind: type[U], database: Database, *, replica: bool = False) -> None:
        self.kind = kind
        self.database = database
        self.replica = replica

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: db.Role = "app") -> U:
        pool = self.database.read_pool if self.replica else self.database.pool
        return self.kind(db.UnitOfWork(pool, self.database.schema, brand_id=brand_id, role=role))

    def finish(self, entry: InboxEntry) -> AbstractAsyncContextManager[U]:
        """A `transaction=False` inbox entry's transaction as a `kind`: the handler's outcome
        commits with the (handler, event) record."""
        return _finishing(self.kind, entry)


@asynccontextmanager
async def _finishing(kind: type[U], entry: InboxEntry) -> AsyncIterator[U]:
    async with entry.finish() as tx:
        yield kind.joined(tx)


Handler = Callable[[Any, EventEnvelope, Any], Awaitable[None]]


def joined(
    kind: type[BoundUnitOfWork], handler: Handler
) -> Callable[[db.UnitOfWork, EventEnvelope, Any], Awaitable[None]]:
    """The inbox handler that runs `handler` with the inbox's transaction as a `kind`."""

    async def handle(tx: db.UnitOfWork, envelope: EventEnvelope, data: Any) -> None:
        await handler(kind.joined(tx), envelope, data)

    return handle
