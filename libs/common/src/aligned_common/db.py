"""PostgreSQL access: the pool and the unit of work.

A unit of work is one transaction that carries the state change and the events
it causes (outbox), scoped to one brand for row-level security. Services run as
`<schema>_app` (RLS applies) for brand-scoped work and as `<schema>_worker`
(BYPASSRLS) only for work that spans brands: relay, dispatcher, schedulers (ADR 0004).
"""

from __future__ import annotations

import uuid
from typing import Literal

import asyncpg

from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import topic_of

Role = Literal["app", "worker", "owner"]


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=60)


def role_name(schema: str, role: Role) -> str | None:
    """The database role a unit of work runs as; `owner` keeps the login role (migrations, tests)."""
    return None if role == "owner" else f"{schema}_{role}"


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


class UnitOfWork:
    """`async with UnitOfWork(pool, "publishing", brand_id=...) as uow:` commits on success.

    Every event added with `emit` is written to the outbox in the same transaction,
    so the state change and its event become visible together or not at all.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        *,
        brand_id: uuid.UUID | None = None,
        role: Role = "app",
    ) -> None:
        self._pool = pool
        self.schema = schema
        self.brand_id = brand_id
        self.role = role
        self._conn: asyncpg.Connection | None = None
        self._tx: asyncpg.transaction.Transaction | None = None
        self.emitted: list[EventEnvelope] = []

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work is not open")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._pool.acquire()
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
            await self._scope_transaction()
        except BaseException:
            await self._release()
            raise
        return self

    async def _scope_transaction(self) -> None:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so a pooled
        # connection never carries one brand's scope (or role) into another's request.
        # One round trip for all three: this runs at the start of every unit of work.
        role = role_name(self.schema, self.role)
        await self.conn.execute(
            "SELECT set_config('search_path', $1, true), set_config('aligned.brand_id', $2, true)"
            + (", set_config('role', $3, true)" if role else ""),
            f"{self.schema}, public",
            str(self.brand_id) if self.brand_id else "",
            *([role] if role else []),
        )

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self.emitted:
                    await self.conn.execute("SELECT pg_notify($1, '')", notify_channel(self.schema))
                await self._tx.commit()
            else:
                await self._tx.rollback()
        finally:
            await self._release()

    async def _release(self) -> None:
        if self._conn is not None:
            await self._pool.release(self._conn)
            self._conn = None

    async def emit(
        self,
        data: EventData,
        *,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        subject: str | None = None,
    ) -> EventEnvelope:
        envelope = new_event(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)
        await write_outbox(self.conn, envelope)
        self.emitted.append(envelope)
        return envelope


async def write_outbox(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    await conn.execute(
        """INSERT INTO outbox (event_id, topic, key, event_type, payload, traceparent)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        envelope.id,
        topic_of(envelope.type),
        str(envelope.brand_id),
        envelope.type,
        envelope.to_bytes(),
        envelope.traceparent,
    )
