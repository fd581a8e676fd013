"""SQL for publish_attempts (the record of publish calls) and rate_buckets."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from aligned_common.db import Params, outbox_insert
from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import AttemptRequested
from aligned_common.units import Repository
from aligned_connections.adapters.connections_repo import CONNECTION_COLUMNS, connection_of
from aligned_connections.domain.attempts import AttemptRecord, AttemptStatus
from aligned_connections.domain.connection import Connection
from aligned_connections.domain.connection import Status as ConnectionStatus
from aligned_connections.domain.rate_limit import Decision


def _record(row: asyncpg.Record, prefix: str = "") -> AttemptRecord:
    return AttemptRecord(
        idempotency_key=row[f"{prefix}idempotency_key"],
        status=AttemptStatus(row[f"{prefix}status"]),
        lease_remaining_s=row[f"{prefix}lease_remaining_s"],
        remote_id=row[f"{prefix}remote_id"],
        url=row[f"{prefix}url"],
        platform_message=row[f"{prefix}platform_message"],
        calls=row[f"{prefix}calls"],
    )


_COLUMNS = """idempotency_key, status, remote_id, url, platform_message, calls,
               extract(epoch FROM lease_until - clock_timestamp())::float8 AS lease_remaining_s"""
# The same, named apart from a connection's columns where one row carries both.
_RECORD_AS = """idempotency_key AS a_idempotency_key, status AS a_status, remote_id AS a_remote_id, url AS a_url,
               platform_message AS a_platform_message, calls AS a_calls,
               extract(epoch FROM lease_until - clock_timestamp())::float8 AS a_lease_remaining_s"""


class SqlAttempts(Repository):
    """The publish_attempts and rate_buckets repository on one unit of work's connection (its brand scope and
    transaction are the caller's)."""

    async def get(self, key: str, *, lock: bool = False) -> AttemptRecord | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM publish_attempts WHERE idempotency_key = $1"
            + (" FOR UPDATE" if lock else ""),
            key,
        )
        return _record(row) if row else None

    async def connection_and_record(
        self,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        data: AttemptRequested,
        usable: Sequence[ConnectionStatus],
    ) -> tuple[Connection | None, AttemptRecord | None]:
        """The attempt's connection and, when it is on the attempt's platform with a `usable`
        status, the request recorded under its key (pending, if new) and returned locked for this
        transaction, so one claimer at a time decides. One round trip for what was a read of the
        connection, an INSERT and a SELECT ... FOR UPDATE (the DO UPDATE takes the row lock an
        existing record needs)."""
        row = await self.conn.fetchrow(
            f"""WITH c AS (SELECT {CONNECTION_COLUMNS} FROM platform_connections WHERE id = $4 AND brand_id = $2),
               rec AS (
                   INSERT INTO publish_attempts (idempotency_key, brand_id, tenant_id, connection_id, job_id,
                       target_id, platform, status, last_attempt)
                   SELECT $1, $2, $3, $4, $5, $6, $7, 'pending', $8 FROM c
                    WHERE c.platform = $7 AND c.status = ANY($9::text[])
                   ON CONFLICT (idempotency_key) DO UPDATE
                       SET last_attempt = greatest(publish_attempts.last_attempt, EXCLUDED.last_attempt)
                   RETURNING {_RECORD_AS})
               SELECT c.*, rec.* FROM c LEFT JOIN rec ON true""",
            data.idempotency_key,
            brand_id,
            tenant_id,
            data.connection_id,
            data.job_id,
            data.target_id,
            data.platform,
            data.attempt,
            [status.value for status in usable],
        )
        if row is None:
            return None, None
        record = _record(row, "a_") if row["a_idempotency_key"] is not None else None
        return connection_of(row), record

    async def take_token_and_lease(
        self,
        key: str,
        attempt: int,
        lease_s: float,
        connection_id: uuid.UUID,
        brand_id: uuid.UUID,
        capacity: float,
        refill_per_s: float,
    ) -> Decision:
        """One token from the connection's bucket and, if there was one, the record leased
        (in_flight until the lease ends), in one statement. The bucket's arithmetic is
        domain.rate_limit.take's, done here so that the account's bucket row (which every claim
        for the account locks) stays locked from this statement to COMMIT only: read, decide
        in Python, then write held it for three round trips, and a burst's claims for one
        account queued behind each other (35 ms a claim, docs/performance.md).
        test_the_claims_token_bucket_decides_as_the_domain_does holds the two to the same answers."""
        for _ in range(2):
            row = await self.conn.fetchrow(
                """WITH old AS (
                       SELECT tokens, updated_at, blocked_until, clock_timestamp() AS now
                         FROM rate_buckets WHERE connection_id = $1 FOR UPDATE),
                   d AS (
                       SELECT old.*, least($2::float8, old.tokens + greatest(0::float8,
                              extract(epoch FROM old.now - old.updated_at)::float8) * $3::float8) AS level
                         FROM old),
                   decision AS (
                       SELECT d.*, NOT coalesce(d.blocked_until > d.now, false) AND d.level >= 1 AS allowed FROM d),
                   bucket AS (
                       UPDATE rate_buckets rb
                          SET tokens = CASE WHEN decision.allowed THEN decision.level - 1 ELSE decision.level END,
                              updated_at = decision.now
                         FROM decision WHERE rb.connection_id = $1),
                   lease AS (
                       UPDATE publish_attempts
                          SET status = 'in_flight', lease_until = clock_timestamp() + make_interval(secs => $6),
                              last_attempt = greatest(last_attempt, $5), updated_at = now()
                        WHERE idempotency_key = $4 AND (SELECT allowed FROM decision))
                   SELECT allowed,
                          CASE WHEN allowed THEN level - 1 ELSE level END AS tokens,
                          CASE WHEN allowed THEN 0::float8
                               WHEN coalesce(blocked_until > now, false)
                                    THEN extract(epoch FROM blocked_until - now)::float8
                               ELSE (1 - level) / $3::float8 END AS wait_s
                     FROM decision""",
                connection_id,
                capacity,
                refill_per_s,
                key,
                attempt,
                lease_s,
            )
            if row is not None:
                return Decision(row["allowed"], row["tokens"], row["wait_s"])
            # The account's first claim: its bucket starts full (once per connection).
            await self.conn.execute(
                """INSERT INTO rate_buckets (connection_id, brand_id, tokens, updated_at)
                   VALUES ($1, $2, $3, clock_timestamp()) ON CONFLICT (connection_id) DO NOTHING""",
                connection_id,
                brand_id,
                capacity,
            )
        raise RuntimeError(f"no rate bucket for connection {connection_id}")

    async def settle(
        self,
        key: str,
        status: AttemptStatus,
        *,
        calls: int,
        remote_id: str | None = None,
        url: str | None = None,
        error: str | None = None,
        platform_message: str | None = None,
        event: EventEnvelope | None = None,
    ) -> None:
        """Write what a handling found out; the lease ends. With `event`, its outbox row is
        written by the same statement (a data-modifying CTE): one round trip less per outcome,
        and round trips are most of a post's cost (docs/performance.md)."""
        p = Params()
        status_p = p(status.value)
        update = f"""UPDATE publish_attempts
               SET status = {status_p}, calls = calls + {p(calls)}, remote_id = COALESCE({p(remote_id)}, remote_id),
                   url = COALESCE({p(url)}, url), last_error = {p(error)}, platform_message = {p(platform_message)},
                   lease_until = NULL, updated_at = now(),
                   published_at = CASE WHEN {status_p} = 'published' THEN now() ELSE published_at END
               WHERE idempotency_key = {p(key)}"""
        statement = f"WITH settled AS ({update}) {outbox_insert(event, p)}" if event else update
        await self.conn.execute(statement, *p.values)

    async def release_lease(self, key: str, error: str) -> None:
        """A handling that held the lease failed mid-call: a call may have landed (unknown), and the
        next handling may go at once. Only our own in-flight record is touched."""
        await self.conn.execute(
            """UPDATE publish_attempts SET status = 'unknown', lease_until = NULL, last_error = $2, updated_at = now()
               WHERE idempotency_key = $1 AND status = 'in_flight'""",
            key,
            error,
        )

    async def remote_id_taken(self, connection_id: uuid.UUID, remote_id: str, key: str) -> bool:
        """Whether another publish of ours already owns this post (so a marker match is not ours)."""
        return bool(
            await self.conn.fetchval(
                """SELECT 1 FROM publish_attempts
                   WHERE connection_id = $1 AND remote_id = $2 AND idempotency_key <> $3 AND status = 'published'""",
                connection_id,
                remote_id,
                key,
            )
        )

    async def published_remote_ids(
        self, connection_id: uuid.UUID, since: datetime | None, limit: int
    ) -> list[str]:
        rows = await self.conn.fetch(
            """SELECT remote_id FROM publish_attempts
               WHERE connection_id = $1 AND status = 'published' AND ($2::timestamptz IS NULL OR published_at >= $2)
               ORDER BY published_at DESC LIMIT $3""",
            connection_id,
            since,
            limit,
        )
        return [row["remote_id"] for row in rows]

    async def block_bucket(self, connection_id: uuid.UUID, seconds: float) -> None:
        """The platform said "wait": nobody calls for this account until then."""
        await self.conn.execute(
            """UPDATE rate_buckets
               SET blocked_until = greatest(coalesce(blocked_until, clock_timestamp()),
                                            clock_timestamp() + make_interval(secs => $2)),
                   tokens = 0, updated_at = clock_timestamp()
               WHERE connection_id = $1""",
            connection_id,
            seconds,
        )
