"""PostgreSQL access: the pool and the unit of work.

A unit of work is one transaction that carries the state change and the events
it causes (outbox), scoped to one brand for row-level security. Services run as
`<schema>_app` (RLS applies) for brand-scoped work and as `<schema>_worker`
(BYPASSRLS) only for work that spans brands: relay, dispatcher, schedulers (ADR 0004).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import asyncpg

from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import topic_of

Role = Literal["app", "worker", "owner"]


class PooledConnection(asyncpg.Connection):
    """A connection of `create_pool`'s pools. asyncpg resets a connection's session state each
    time it goes back to the pool (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`),
    one round trip per use in every service (docs/performance.md). A user that left nothing to
    reset says so with `mark_clean()`, and the pool skips the query for that one release:
    a unit of work (it sends the same reset query in its COMMIT's or ROLLBACK's round trip,
    after the transaction ended), `fetchval_clean` (one plain SELECT of our own) and the outbox
    relay's round (SET LOCAL and transaction-level advisory locks only, after its transaction
    ended). Every other use (a failed COMMIT, a test's SET) still gets the pool's full reset, so no
    brand scope, role or setting reaches the connection's next user
    (tests/integration/test_pooled_connections.py)."""

    _clean = False

    def mark_clean(self) -> None:
        self._clean = True

    def take_clean_mark(self) -> bool:
        clean, self._clean = self._clean, False
        return clean


async def _reset_unless_clean(conn: asyncpg.Connection) -> None:
    # asyncpg has already rolled back an open transaction and dropped listener callbacks.
    if isinstance(conn, PooledConnection) and conn.take_clean_mark():
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)


def mark_clean(conn: asyncpg.Connection) -> None:
    """This use left no session state (only transaction-scoped settings and locks, now ended):
    the pool may skip its reset. Say it only where that holds for every path that gets here."""
    mark = getattr(conn, "mark_clean", None)  # a pool of plain connections has no mark: it resets
    if mark is not None:
        mark()


async def fetchval_clean(pool: asyncpg.Pool, query: str, *args: object) -> object:
    """`pool.fetchval` for one plain SELECT (no set_config, no locks, nothing a session keeps):
    without the pool's reset round trip after it."""
    async with pool.acquire() as conn:
        value = await conn.fetchval(query, *args)
        mark_clean(conn)
        return value


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    """`init` runs on each new connection (tests attach a query logger with it)."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        command_timeout=60,
        connection_class=PooledConnection,
        reset=_reset_unless_clean,
    )


def role_name(schema: str, role: Role) -> str | None:
    """The database role a unit of work runs as; `owner` keeps the login role (migrations, tests)."""
    return None if role == "owner" else f"{schema}_{role}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
        record_event: tuple[str, uuid.UUID, str] | None = None,
    ) -> None:
        self._pool = pool
        self.schema = schema
        self.brand_id = brand_id
        self.role = role
        # (handler, event id, event type): the inbox's processed-event row, inserted with BEGIN.
        self._record_event = record_event
        self.first_time: bool | None = None  # with record_event: False when the row was there already
        self._conn: asyncpg.Connection | None = None
        self.emitted: list[EventEnvelope] = []

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work is not open")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._pool.acquire()
        try:
            await self._begin_scoped()
        except BaseException:
            await self._release()
            raise
        return self

    async def _begin_scoped(self) -> None:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so a pooled
        # connection never carries one brand's scope (or role) into another's request.
        # BEGIN and the scope go in ONE round trip (a simple query of two statements): every
        # unit of work starts so, and round trips are most of a consumer's CPU
        # (docs/performance.md). The values are ours (schema, uuid, role name), quoted anyway.
        # asyncpg refuses conn.transaction() inside a transaction begun so: nesting fails loudly.
        role = role_name(self.schema, self.role)
        settings = [
            ("search_path", f"{self.schema}, public"),
            ("aligned.brand_id", str(self.brand_id) if self.brand_id else ""),
        ]
        if role:
            settings.append(("role", role))
        scope = ", ".join(
            f"set_config({_literal(name)}, {_literal(value)}, true)" for name, value in settings
        )
        begin = f"BEGIN; SELECT {scope}"
        if self._record_event is None:
            await self.conn.execute(begin)
            return
        # The inbox's dedupe row goes in the same round trip (one less per handled message);
        # a simple query answers with the last statement's status: "INSERT 0 1" the first time.
        handler, event_id, event_type = self._record_event
        status = await self.conn.execute(
            f"{begin}; INSERT INTO processed_events (handler, event_id, event_type) "
            f"VALUES ({_literal(handler)}, {_literal(str(uuid.UUID(str(event_id))))}, {_literal(event_type)}) "
            "ON CONFLICT DO NOTHING"
        )
        self.first_time = status == "INSERT 0 1"

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                notify = (
                    f"SELECT pg_notify({_literal(notify_channel(self.schema))}, ''); " if self.emitted else ""
                )
                await self._end(notify + "COMMIT")
            else:
                try:
                    await self._end("ROLLBACK")
                except Exception:
                    # The connection is broken or busy (a cancelled query): the pool's reset on
                    # release rolls back or closes it; the handler's own error is what counts.
                    pass
        finally:
            await self._release()

    async def _end(self, statement: str) -> None:
        """COMMIT or ROLLBACK, with the pool's reset query in the same round trip when the pool
        is `create_pool`'s (PooledConnection). The reset runs once the transaction has ended;
        the connection is marked clean only when all of it succeeded, so after a failed COMMIT
        the pool sends its own reset."""
        pooled = hasattr(self.conn, "mark_clean")  # a pool of plain connections: no folding
        reset = self.conn.get_reset_query() if pooled else ""
        await self.conn.execute(f"{statement}; {reset}" if reset else statement)
        mark_clean(self.conn)

    async def _release(self) -> None:
        if self._conn is not None:
            await self._pool.release(self._conn)
            self._conn = None

    async def emit(self, data: EventData, **keys) -> EventEnvelope:
        """Writes the event to the outbox at once; `keys` (brand_id, tenant_id, subject) as for `event`."""
        envelope = self.event(data, **keys)
        await write_outbox(self.conn, envelope)
        return envelope

    def event(
        self,
        data: EventData,
        *,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        subject: str | None = None,
    ) -> EventEnvelope:
        """An event the caller writes itself, with `outbox_insert` inside its own statement (its
        state change and the outbox row in one round trip); COMMIT then wakes the relay."""
        envelope = new_event(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)
        self.emitted.append(envelope)
        return envelope


def outbox_insert(envelope: EventEnvelope, param: Callable[[object], str]) -> str:
    """The envelope's outbox INSERT; `param` binds each value and returns its placeholder ("$n"),
    so the INSERT can be one part of a larger statement."""
    values = (
        envelope.id,
        topic_of(envelope.type),
        str(envelope.brand_id),
        envelope.type,
        envelope.to_bytes(),
        envelope.traceparent,
    )
    return (
        "INSERT INTO outbox (event_id, topic, key, event_type, payload, traceparent) "
        f"VALUES ({', '.join(map(param, values))})"
    )


async def write_outbox(conn: asyncpg.Connection, envelope: EventEnvelope) -> None:
    params = Params()
    await conn.execute(outbox_insert(envelope, params), *params.values)


class Params:
    """The values of a statement being built: `params(value)` binds one and returns "$n"."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def __call__(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"
