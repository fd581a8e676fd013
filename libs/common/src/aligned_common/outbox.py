"""The outbox relay: publishes committed outbox rows to Kafka, in order per brand.

Rows are split into 16 lanes by key. In each round a relay worker takes a
transaction-level advisory lock on some lanes that have pending rows (lanes locked
by others are skipped), claims their oldest rows FOR UPDATE SKIP LOCKED, sends them
with an idempotent acks=all producer, marks them published and commits. One owner
per lane at a time keeps order per brand across workers and replicas, and lets
several workers overlap their Kafka round trips. A crash before the commit leaves
rows unpublished to be sent again (at-least-once: consumers dedupe by event id). A
broker outage just keeps rows waiting while the relay backs off (ADR 0003).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random

import asyncpg
from aiokafka import AIOKafkaProducer

from aligned_common.db import mark_clean, notify_channel
from aligned_common.kafka import reliable_producer
from aligned_common.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_LAG_SECONDS,
    OUTBOX_PUBLISH_ERRORS,
    OUTBOX_PUBLISHED,
)

log = logging.getLogger(__name__)

LANES = 16
# How soon a worker looks again when every lane with pending rows was held by another worker.
LANE_RETRY_S = 0.05
# After a round that emptied its lanes, the next waits this long: the commits of that moment
# join one round instead of each paying a round's six round trips (and an empty round's three)
# on its own. Measured in the pipeline: about one row per round without it. An event after a
# quiet spell still goes at once (the wait follows a round, never a wakeup).
COALESCE_S = 0.01
# The longest a round may wait for its acks: several producer request timeouts (15 s each).
ROUND_SEND_TIMEOUT_S = 60.0


def _lane_lock_base(schema: str) -> int:
    return int.from_bytes(hashlib.sha256(f"aligned.outbox.{schema}".encode()).digest()[:4], "big") >> 1


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        bootstrap: str,
        *,
        batch_size: int = 5000,
        workers: int = 2,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._pool = pool
        self._schema = schema
        self._bootstrap = bootstrap
        self._batch_size = batch_size
        self._workers = workers
        self._lanes_per_round = max(1, LANES // workers)
        self._poll_interval_s = poll_interval_s
        self._max_backoff_s = max_backoff_s
        self._producer: AIOKafkaProducer | None = None
        self._connecting = asyncio.Lock()
        self._wakeups: list[asyncio.Event] = []
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._listener: asyncpg.Connection | None = None
        self._lock_base = _lane_lock_base(schema)
        self.published = 0

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        for n in range(self._workers):
            wakeup = asyncio.Event()
            self._wakeups.append(wakeup)
            self._tasks.append(
                asyncio.create_task(self._run(wakeup), name=f"outbox-relay-{self._schema}-{n}")
            )

    async def stop(self) -> None:
        self._stopping.set()
        for wakeup in self._wakeups:
            wakeup.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_listener()
        await self._drop_producer()

    async def _run(self, wakeup: asyncio.Event) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._ensure_connected()
                # Cleared before the round, not before the sleep: a commit notified while
                # this round runs must wake the next one at once.
                wakeup.clear()
                sent, held_elsewhere = await self._publish_round()
                failures = 0
                if held_elsewhere:
                    # Rows are pending, but in lanes another worker holds for its round: it
                    # ends within a round trip, so look again soon rather than at the next poll.
                    await self._sleep(wakeup, LANE_RETRY_S)
                elif sent == 0:
                    await self._sleep(wakeup, self._poll_interval_s)
                elif sent < self._batch_size:
                    await self._sleep(self._stopping, COALESCE_S)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database outage: keep rows, back off, retry
                failures += 1
                OUTBOX_PUBLISH_ERRORS.labels(self._schema).inc()
                delay = min(self._max_backoff_s, 0.2 * 2 ** min(failures, 8)) * random.uniform(0.5, 1.0)
                log.warning(
                    "outbox relay round failed; retrying",
                    extra={
                        "ctx_schema": self._schema,
                        "ctx_error": repr(exc),
                        "ctx_retry_in_s": round(delay, 2),
                    },
                )
                await self._close_listener()
                # After expired batches an idempotent producer's sequence state is unusable;
                # a fresh producer (new producer id) is the documented way back.
                await self._drop_producer()
                await self._sleep(self._stopping, delay)

    async def _sleep(self, until: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(until.wait(), timeout)

    async def _ensure_connected(self) -> None:
        async with self._connecting:
            if self._producer is None:
                producer = reliable_producer(self._bootstrap)
                await producer.start()
                self._producer = producer
            if self._listener is None or self._listener.is_closed():
                # A dedicated connection LISTENs so a commit wakes the relay at once;
                # polling every poll_interval_s covers a lost notification.
                conn = await self._pool.acquire()
                await conn.add_listener(notify_channel(self._schema), self._on_notify)
                self._listener = conn

    def _on_notify(self, *_args) -> None:
        for wakeup in self._wakeups:
            wakeup.set()

    async def _close_listener(self) -> None:
        if self._listener is not None:
            conn, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await conn.remove_listener(notify_channel(self._schema), self._on_notify)
            with contextlib.suppress(Exception):
                await self._pool.release(conn)

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)

    # -- one round -------------------------------------------------------------------
    async def _publish_round(self) -> tuple[int, bool]:
        """Publish up to batch_size rows from lanes this worker can lock. Returns (rows published,
        whether pending rows were left because other workers held their lanes)."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                published, held_elsewhere = await self._round(conn)
            # Only SET LOCAL and transaction-level advisory locks were taken, and the
            # transaction has ended: the pool's reset would be a round trip for nothing.
            mark_clean(conn)
        if published:
            OUTBOX_PUBLISHED.labels(self._schema).inc(published)
            self.published += published
        return published, held_elsewhere

    async def _round(self, conn: asyncpg.Connection) -> tuple[int, bool]:
        """One round's work inside its transaction: (rows published, lanes held elsewhere)."""
        lanes, pending_lanes = await self._lock_pending_lanes(conn)
        if not lanes:
            return 0, pending_lanes > 0
        rows = await conn.fetch(
            f"""SELECT seq, topic, key, payload, traceparent, event_type
                  FROM "{self._schema}".outbox
                 WHERE published_at IS NULL AND lane = ANY($1::smallint[])
                 ORDER BY seq
                 LIMIT $2
                   FOR UPDATE SKIP LOCKED""",
            lanes,
            self._batch_size,
        )
        if not rows:
            return 0, False
        # The mark runs on the server while we queue the sends; it only becomes
        # visible at commit, after every ack, and a failed send rolls it back.
        marking = asyncio.ensure_future(
            conn.execute(
                # A join, not `seq = ANY($1)`: under a generic plan that is a scan testing
                # every row against the whole array (measured: 350 ms for 2,000 rows).
                f"""UPDATE "{self._schema}".outbox o SET published_at = clock_timestamp(), attempts = o.attempts + 1
                      FROM unnest($1::bigint[]) AS sent(seq) WHERE o.seq = sent.seq""",
                [r["seq"] for r in rows],
            )
        )
        try:
            # Bounded: a round whose acks never come (seen once after the broker went away
            # mid-round) would otherwise hold its lanes, and stop(), forever. On timeout the
            # round rolls back and the rows are sent again by a fresh producer.
            await asyncio.wait_for(self._send_all(rows), ROUND_SEND_TIMEOUT_S)
        finally:
            await marking
        return len(rows), False

    async def _lock_pending_lanes(self, conn: asyncpg.Connection) -> tuple[list[int], int]:
        """(lanes locked for this round, how many lanes had pending rows)."""
        # Lanes with pending rows, in random order so workers spread over them; the lock
        # is tried lazily until enough are held. Held until this transaction ends.
        # MATERIALIZED keeps the planner from pushing the lock call below the sort,
        # where it would lock every lane. The same statement sets synchronous_commit off for
        # this transaction (SET LOCAL, without a round trip of its own): losing the round's
        # commit in a database crash only means the batch is sent again, which consumers
        # dedupe, so the relay need not wait for the WAL flush.
        row = await conn.fetchrow(
            f"""WITH pending AS MATERIALIZED (
                    SELECT g.lane::smallint AS lane FROM generate_series(0, {LANES - 1}) AS g(lane)
                     WHERE EXISTS (SELECT 1 FROM "{self._schema}".outbox o
                                    WHERE o.lane = g.lane::smallint AND o.published_at IS NULL)
                     ORDER BY random())
                SELECT ARRAY(SELECT lane FROM pending WHERE pg_try_advisory_xact_lock($1, lane) LIMIT $2) AS locked,
                       (SELECT count(*) FROM pending) AS pending,
                       set_config('synchronous_commit', 'off', true) AS synchronous_commit""",
            self._lock_base,
            self._lanes_per_round,
        )
        return list(row["locked"]), row["pending"]

    async def _send_all(self, rows: list[asyncpg.Record]) -> None:
        # Sends are queued in seq order before any is awaited: the idempotent producer
        # keeps that order per partition, and we wait for every ack before committing.
        producer = self._producer
        if producer is None:
            raise RuntimeError("the relay is not started")
        futures = []
        for row in rows:
            headers = [("event_type", row["event_type"].encode())]
            if row["traceparent"]:
                headers.append(("traceparent", row["traceparent"].encode()))
            futures.append(
                await producer.send(
                    row["topic"], value=row["payload"], key=row["key"].encode(), headers=headers
                )
            )
        await asyncio.gather(*futures)

    async def refresh_gauges(self) -> dict[str, float]:
        """Backlog and lag, for /metrics and the operator CLI."""
        row = await self._pool.fetchrow(
            f"""SELECT count(*) AS backlog,
                       COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0) AS lag_s
                  FROM "{self._schema}".outbox WHERE published_at IS NULL"""
        )
        OUTBOX_BACKLOG.labels(self._schema).set(row["backlog"])
        OUTBOX_LAG_SECONDS.labels(self._schema).set(float(row["lag_s"]))
        return {"backlog": row["backlog"], "lag_s": float(row["lag_s"])}


async def purge_published(pool: asyncpg.Pool, schema: str, older_than_s: float = 86_400) -> int:
    """Published rows are kept a while for operators, then removed."""
    result = await pool.execute(
        f"""DELETE FROM "{schema}".outbox
             WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)""",
        older_than_s,
    )
    return int(result.split()[-1])
