"""The inbox: idempotent, retried, dead-lettering event consumers, many messages at once.

`EventRouter` maps event types to plain async handler functions, each route under a stable
name declared with it (what step 3 records); `InboxConsumer` reads a
service's consumer group from the topics its handlers need (one aiokafka consumer for all of
them) and runs up to `max_in_flight` messages at once. For each message:

1. bytes -> envelope -> typed data; malformed bytes or an unknown type go to the DLQ;
2. it waits for the earlier messages it must follow (`inbox_order.OrderGate`): those with the
   same ordering key of its brand (each route declares its key: by default the envelope's
   `subject`, the entity the event is about; `order_by=BY_BRAND` for a handler that needs its
   brand's whole order). Messages of different keys overlap;
3. in one unit of work (scoped to the event's brand): record (handler name, event id) in
   processed_events; if it was there already the event is a redelivery and nothing runs;
   otherwise the handler runs and its state change commits with that record. A route declared
   `transaction=False` (one that calls a platform) gets an `InboxEntry` instead, does its own
   short transactions and writes its outcome in `entry.finish()`, which carries that record;
4. a failing handler is retried with backoff `max_retries` times, then the message goes
   to `<topic>.dlq` with the error, handler and original offset in headers;
5. offsets are committed up to the contiguous low-water mark of finished messages per
   partition (`inbox_order.OffsetLedger`): a crash redelivers at most what was in flight
   (and what finished above it), which the dedupe of step 3 makes harmless.

An outage of our own database is not the message's fault: it is retried without limit
instead of dead-lettering good messages (ADR 0002); it holds up only its own key. On a
rebalance the revoked partitions' messages are given `drain_timeout_s` to finish, then
cancelled (their transactions roll back; they are redelivered to the new owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from pydantic import ValidationError

from aligned_common.db import Role, UnitOfWork, fetchval_clean
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.events.registry import EVENT_TYPES, dlq_of, topic_of
from aligned_common.inbox_order import BRAND_WIDE, OffsetLedger, OrderGate
from aligned_common.kafka import connection_options
from aligned_common.metrics import CONSUMED, DEAD_LETTERED, HANDLER_SECONDS
from aligned_common.telemetry import context_from_kafka_headers, tracer

log = logging.getLogger(__name__)

# The data argument is Any: each handler takes the model(s) it is routed (a Callable that takes
# EventData would refuse `data: BrandCreated` under a type checker).
Handler = Callable[[Any, EventEnvelope, Any], Awaitable[None]]
# The ordering key of a message: an entity id, or None (BRAND_WIDE) for the brand's whole order.
OrderKey = Callable[[EventEnvelope, EventData], "str | None"]

# Errors that say our own infrastructure is unavailable, not that the message is bad.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


def by_subject(envelope: EventEnvelope, data: EventData) -> str | None:
    """The default: the entity the event is about; an event without one keeps its brand's order."""
    return envelope.subject


def by_brand(envelope: EventEnvelope, data: EventData) -> str | None:
    return BRAND_WIDE


def by_field(name: str) -> OrderKey:
    """The entity named by a field of the data (e.g. an approval decision's `job_id`)."""

    def key(envelope: EventEnvelope, data: EventData) -> str | None:
        value = getattr(data, name, None)
        return str(value) if value is not None else BRAND_WIDE

    key.__name__ = f"by_{name}"
    return key


BY_SUBJECT, BY_BRAND = by_subject, by_brand


@dataclass
class _Route:
    name: str
    handler: Handler
    role: Role
    order_by: OrderKey = by_subject
    transaction: bool = True
    batch: bool = False


@dataclass
class EventRouter:
    """Which handler runs for which event type, in one service."""

    service: str
    routes: dict[str, _Route] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set, repr=False)

    def on(
        self,
        *models: type[EventData],
        name: str,
        role: Role = "app",
        order_by: OrderKey = by_subject,
        transaction: bool = True,
        batch: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Route the events of `models` to the decorated handler.

        `name` is what processed_events records with each event id (as `<service>.<name>`), so a
        redelivered event is recognised: it must stay the same for as long as deployed rows may
        be redelivered, whatever the Python function is called. Each name is declared once per
        router (one declaration may cover several event types); a missing, empty or repeated
        name fails when the router is built, i.e. at startup.

        `transaction=False`: the handler is called as `handler(entry, envelope, data)` with no
        transaction open, and writes its outcome in `async with entry.finish() as uow:`.

        `batch=True` (for consumers that only record, e.g. the audit trail): messages of one brand
        that are ready together share one transaction (their dedupe rows in one statement, one
        commit). If that transaction fails, each message is run again on its own, with the usual
        retries and dead letters, so one bad message costs its batch only a second try."""
        if batch and not transaction:
            raise ValueError("a batched route runs in the batch's transaction")
        if not models:
            raise ValueError(f"a route of {self.service} names at least one event model")
        if not name or not name.strip():
            raise ValueError(f"a route of {self.service} needs a stable handler name")
        if name in self._names:
            raise ValueError(f"handler name {name!r} is declared twice in {self.service}")
        self._names.add(name)

        def register(handler: Handler) -> Handler:
            for model in models:
                event_type = model.event_type()
                if event_type in self.routes:
                    raise ValueError(f"{event_type} already has a handler in {self.service}")
                self.routes[event_type] = _Route(
                    f"{self.service}.{name}", handler, role, order_by, transaction, batch
                )
            return handler

        return register

    def handler_names(self) -> dict[str, list[str]]:
        """Each declared name (without the service) and the event types it records, sorted."""
        by_name: dict[str, list[str]] = {}
        for event_type, route in sorted(self.routes.items()):
            by_name.setdefault(route.name.removeprefix(f"{self.service}."), []).append(event_type)
        return by_name

    def topics(self) -> list[str]:
        return sorted({topic_of(t) for t in self.routes})


@dataclass
class ConsumerSettings:
    max_retries: int = 3
    retry_base_s: float = 0.2
    transient_max_backoff_s: float = 10.0
    # Messages handled at once per consumer (all its partitions). 64 keeps two cores busy
    # when handlers wait on a platform; each holds a pooled connection only inside a transaction.
    max_in_flight: int = 64
    commit_interval_s: float = 0.2
    drain_timeout_s: float = 20.0  # on a rebalance or shutdown, before in-flight work is cancelled


class PoisonMessage(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class AlreadyHandled(Exception):
    """Raised inside `InboxEntry.finish()` when the event was recorded meanwhile (a redelivery)."""


class InboxEntry:
    """What a `transaction=False` handler gets: no transaction is open while it works (a
    platform call holds no pooled connection); `finish()` is the transaction that writes its
    outcome together with the (handler, event id) record."""

    def __init__(self, consumer: InboxConsumer, route: _Route, envelope: EventEnvelope) -> None:
        self._consumer = consumer
        self._route = route
        self._envelope = envelope
        self.finished = False

    @contextlib.asynccontextmanager
    async def finish(self) -> AsyncIterator[UnitOfWork]:
        if self.finished:
            raise RuntimeError("an inbox entry is finished once")
        consumer, envelope = self._consumer, self._envelope
        async with UnitOfWork(
            consumer.pool,
            consumer.schema,
            brand_id=envelope.brand_id,
            role=self._route.role,
            record_event=(self._route.name, envelope.id, envelope.type),
        ) as uow:
            if not uow.first_time:
                raise AlreadyHandled(str(envelope.id))
            yield uow
        self.finished = True


@dataclass
class _Message:
    tp: TopicPartition
    ledger: OffsetLedger
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    envelope: EventEnvelope | None = None
    data: EventData | None = None
    route: _Route | None = None
    poison: PoisonMessage | None = None


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, consumer: InboxConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked) -> None:
        await self._consumer._drain(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        for tp in assigned:
            self._consumer._ledgers[tp] = OffsetLedger()


class _BatchFailed(Exception):
    pass


class _Batches:
    """Collects the batched routes' messages that are ready in the same moment, per brand and
    role (a transaction is scoped to one brand), and runs each group in one transaction."""

    MAX = 500

    def __init__(self, consumer: InboxConsumer) -> None:
        self._consumer = consumer
        self._pending: dict[
            tuple[str, uuid.UUID], list[tuple[_Route, EventEnvelope, EventData, asyncio.Future]]
        ] = {}
        self._tasks: set[asyncio.Task] = set()  # held so a running flush is never collected

    async def submit(self, route: _Route, envelope: EventEnvelope, data: EventData) -> str:
        done = asyncio.get_running_loop().create_future()
        group = (route.role, envelope.brand_id)
        items = self._pending.setdefault(group, [])
        items.append((route, envelope, data, done))
        if len(items) == 1:
            self._spawn(self._flush(group))
        elif len(items) >= self.MAX:
            self._pending.pop(group)
            self._spawn(self._run(items))
        return await done

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, group) -> None:
        await asyncio.sleep(0.002)  # the messages admitted with this one reach submit() meanwhile
        items = self._pending.pop(group, None)
        if items:
            await self._run(items)

    async def _run(self, items) -> None:
        consumer = self._consumer
        role, brand_id = items[0][0].role, items[0][1].brand_id
        try:
            started = time.monotonic()
            async with UnitOfWork(consumer.pool, consumer.schema, brand_id=brand_id, role=role) as uow:
                rows = await uow.conn.fetch(
                    """INSERT INTO processed_events (handler, event_id, event_type)
                       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[])
                       ON CONFLICT DO NOTHING RETURNING handler, event_id""",
                    [route.name for route, *_ in items],
                    [e.id for _, e, *_ in items],
                    [e.type for _, e, *_ in items],
                )
                first_time = {(row["handler"], row["event_id"]) for row in rows}
                outcomes = []
                for route, envelope, data, _ in items:
                    if (route.name, envelope.id) in first_time:
                        await route.handler(uow, envelope, data)
                        outcomes.append("handled")
                    else:
                        outcomes.append("duplicate")
            share = (time.monotonic() - started) / len(items)
        except BaseException as exc:
            for *_, done in items:
                if not done.done():
                    done.set_exception(_BatchFailed(repr(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        for (route, envelope, _, done), outcome in zip(items, outcomes, strict=False):
            HANDLER_SECONDS.labels(route.name).observe(share)
            CONSUMED.labels(route.name, envelope.type, outcome).inc()
            if not done.done():
                done.set_result(outcome)


class InboxConsumer:
    """One consumer group member: many messages at once, ordered per key, committed safely."""

    def __init__(
        self,
        router: EventRouter,
        pool: asyncpg.Pool,
        schema: str,
        broker: KafkaBroker,
        settings: ConsumerSettings | None = None,
        *,
        bootstrap: str | None = None,
    ) -> None:
        self.router = router
        self.pool = pool
        self.schema = schema
        self.broker = broker  # for the DLQ: started and stopped by its owner
        self.settings = settings or ConsumerSettings()
        self.bootstrap = bootstrap or os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
        self._gate = OrderGate()
        self._batches = _Batches(self)
        self._ledgers: dict[TopicPartition, OffsetLedger] = {}
        self._tasks: dict[TopicPartition, set[asyncio.Task]] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._consumer: AIOKafkaConsumer | None = None
        self._loop: asyncio.Task | None = None
        self._stopping = False

    @property
    def group_id(self) -> str:
        return f"aligned-{self.router.service}"

    @property
    def in_flight(self) -> int:
        return sum(len(tasks) for tasks in self._tasks.values())

    def _started(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("the inbox consumer is not started")
        return self._consumer

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        # One Kafka consumer for all the router's topics: each extra member of a group
        # costs a rebalance at start-up (seconds each).
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=10 * 60 * 1000,
            **connection_options(),
        )
        for attempt in range(1, 31):  # the broker may be restarting (a rollout after an outage)
            try:
                await self._consumer.start()
                break
            except KafkaError as exc:
                if attempt == 30:
                    raise
                log.warning(
                    "kafka not reachable yet", extra={"ctx_group": self.group_id, "ctx_error": repr(exc)}
                )
                await asyncio.sleep(min(5.0, 0.5 * attempt))
        self._consumer.subscribe(self.router.topics(), listener=_Rebalance(self))
        self._stopping = False
        self._loop = asyncio.create_task(self._run(), name=f"inbox {self.group_id}")

    async def stop(self) -> None:
        """Stop taking messages, let those in flight finish (drain_timeout_s), commit, leave."""
        self._stopping = True
        if self._loop is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._loop, 5.0)
        await self._drain(set(self._ledgers) | set(self._tasks))
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()

    # -- the poll loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        consumer = self._started()
        while not self._stopping:
            try:
                free = self.settings.max_in_flight - self.in_flight
                assigned = consumer.assignment()
                if free <= 0:
                    consumer.pause(*assigned)  # keeps polling (the group sees us alive), takes nothing
                elif consumer.paused():
                    consumer.resume(*consumer.paused())
                batch = await consumer.getmany(timeout_ms=200 if free > 0 else 20, max_records=max(1, free))
                for tp, records in batch.items():
                    ledger = self._ledgers.setdefault(tp, OffsetLedger())
                    for record in records:
                        self._admit(tp, ledger, record)
                await self._commit()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "inbox poll failed; going on", extra={"ctx_group": self.group_id, "ctx_error": repr(exc)}
                )
                await asyncio.sleep(1.0)

    def _admit(self, tp: TopicPartition, ledger: OffsetLedger, record) -> None:
        if not ledger.start(record.offset):
            return  # taken already (fetched twice around a reconnect)
        headers = list(record.headers or [])
        message = _Message(tp, ledger, record.offset, record.key, record.value, headers)
        if self._not_ours(headers):
            self._finish(message)  # a valid event of another consumer: skip it without parsing the body
            return
        key: str | None
        try:
            message.envelope, message.data = envelope, data = self._parse(record.value)
        except PoisonMessage as poison:
            message.poison = poison
            brand, key = "-", f"@{tp.topic}/{tp.partition}/{record.offset}"  # orders nothing
        else:
            message.route = route = self.router.routes.get(envelope.type)
            # No payload is parsed exactly when the router has no route for the type.
            if route is None or data is None:
                self._finish(message)  # another service's event on a shared topic
                return
            brand, key = str(envelope.brand_id), route.order_by(envelope, data)
        waits, done = self._gate.admit(brand, key)
        task = asyncio.create_task(self._process(message, waits, done))
        self._tasks.setdefault(tp, set()).add(task)

        def forget(finished: asyncio.Task[None]) -> None:
            self._tasks.get(tp, set()).discard(finished)

        task.add_done_callback(forget)

    async def _process(self, message: _Message, waits: list[asyncio.Future], done: asyncio.Future) -> None:
        try:
            for earlier in waits:
                await earlier
            record_failures = 0
            while True:
                try:
                    await self._handle(message)
                    break
                except Exception as exc:  # the DLQ itself failed: the message is never dropped
                    record_failures += 1
                    log.warning(
                        "inbox could not settle a message; retrying",
                        extra={
                            "ctx_group": self.group_id,
                            "ctx_offset": message.offset,
                            "ctx_error": repr(exc),
                        },
                    )
                    await asyncio.sleep(
                        min(self.settings.transient_max_backoff_s, 0.2 * 2 ** min(record_failures, 6))
                    )
            self._finish(message)
        finally:
            if not done.done():
                done.set_result(None)

    def _finish(self, message: _Message) -> None:
        if self._ledgers.get(message.tp) is message.ledger:  # not revoked meanwhile
            message.ledger.finish(message.offset)

    async def _commit(self, *, force: bool = False, only: set[TopicPartition] | None = None) -> None:
        now = time.monotonic()
        if not force and now - self._last_commit < self.settings.commit_interval_s:
            return
        offsets = {
            tp: ledger.committable
            for tp, ledger in self._ledgers.items()
            if ledger.committable is not None
            and ledger.committable != self._committed.get(tp)
            and (only is None or tp in only)
        }
        self._last_commit = now
        if not offsets:
            return
        try:
            await self._started().commit(offsets)
            self._committed.update(offsets)
        except KafkaError as exc:
            # A rebalance is under way or the broker is away: these offsets are committed by the
            # next try, or redelivered to the next owner (the dedupe makes that harmless).
            log.info("inbox commit failed", extra={"ctx_group": self.group_id, "ctx_error": repr(exc)})

    async def _drain(self, partitions: set[TopicPartition]) -> None:
        """Revoked (or shutting down): finish what is in flight, or cancel it; commit; forget."""
        tasks = {t for tp in partitions for t in self._tasks.get(tp, ())}
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.settings.drain_timeout_s)
            for task in pending:
                task.cancel()
            if pending:
                log.warning(
                    "in-flight messages cancelled at a rebalance or shutdown; they will be redelivered",
                    extra={"ctx_group": self.group_id, "ctx_cancelled": len(pending)},
                )
                await asyncio.wait(pending, timeout=5.0)
        if self._consumer is not None:
            await self._commit(force=True, only=partitions)
        for tp in partitions:
            self._ledgers.pop(tp, None)
            self._tasks.pop(tp, None)
            self._committed.pop(tp, None)

    def _not_ours(self, headers: list[tuple[str, bytes]]) -> bool:
        # The relay stamps each message with its event type. A new consumer group reads
        # the topic from the start, so skipping cheaply what it does not handle matters.
        for key, value in headers:
            if key == "event_type":
                event_type = value.decode(errors="replace")
                return event_type in EVENT_TYPES and event_type not in self.router.routes
        return False

    async def _handle(self, message: _Message) -> str:
        """Returns the outcome: handled, duplicate or dead_lettered."""
        topic, partition = message.tp.topic, message.tp.partition
        with tracer().start_as_current_span(
            f"consume {topic}",
            context=context_from_kafka_headers(message.headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        ):
            args = (topic, partition, message.offset, message.key, message.value, message.headers)
            if message.poison is not None:
                await self._dead_letter(*args, message.poison.reason, message.poison.detail, "-")
                return "dead_lettered"
            # Not poison and not finished in _admit: parsed, with a route and its payload.
            route, envelope, data = message.route, message.envelope, message.data
            if route is None or envelope is None or data is None:
                raise RuntimeError("a message without a route reached its handler")
            if route.batch:
                try:
                    return await self._batches.submit(route, envelope, data)
                except _BatchFailed:
                    pass  # on its own now: retries and dead letters as for any message
            return await self._run_with_retries(route, envelope, data, *args)

    def _parse(self, value: bytes) -> tuple[EventEnvelope, EventData | None]:
        try:
            envelope = EventEnvelope.from_bytes(value)
        except ValidationError as exc:
            raise PoisonMessage("malformed_envelope", str(exc)) from exc
        if envelope.type not in EVENT_TYPES:
            raise PoisonMessage("unknown_event_type", f"unknown event type {envelope.type!r}")
        if envelope.type not in self.router.routes:
            return envelope, None  # a known event this service does not handle
        try:
            return envelope, envelope.payload()
        except ValidationError as exc:
            raise PoisonMessage("invalid_data", str(exc)) from exc

    async def _run_with_retries(
        self, route, envelope, data, topic, partition, offset, key, value, headers
    ) -> str:
        failures = 0
        transient_failures = 0
        while True:
            try:
                with HANDLER_SECONDS.labels(route.name).time():
                    outcome = await self._run_once(route, envelope, data)
                CONSUMED.labels(route.name, envelope.type, outcome).inc()
                return outcome
            except TRANSIENT_ERRORS as exc:
                transient_failures += 1
                delay = min(self.settings.transient_max_backoff_s, 0.2 * 2 ** min(transient_failures, 8))
                log.warning(
                    "infrastructure error in handler; retrying",
                    extra={
                        "ctx_handler": route.name,
                        "ctx_event_id": str(envelope.id),
                        "ctx_error": repr(exc),
                    },
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            except Exception as exc:
                failures += 1
                if failures > self.settings.max_retries:
                    detail = "".join(traceback.format_exception_only(exc)).strip()
                    await self._dead_letter(
                        topic, partition, offset, key, value, headers, "handler_failed", detail, route.name
                    )
                    CONSUMED.labels(route.name, envelope.type, "dead_lettered").inc()
                    return "dead_lettered"
                # Full jitter: replicas retrying the same poison do not march in step.
                await asyncio.sleep(random.uniform(0, self.settings.retry_base_s * 2**failures))

    async def _run_once(self, route: _Route, envelope: EventEnvelope, data: EventData) -> str:
        if not route.transaction:
            return await self._run_outside_transaction(route, envelope, data)
        async with UnitOfWork(
            self.pool,
            self.schema,
            brand_id=envelope.brand_id,
            role=route.role,
            record_event=(route.name, envelope.id, envelope.type),
        ) as uow:
            if not uow.first_time:
                return "duplicate"
            await route.handler(uow, envelope, data)
        return "handled"

    async def _run_outside_transaction(self, route: _Route, envelope: EventEnvelope, data: EventData) -> str:
        # A redelivery is answered without running the handler again. One statement, no
        # transaction: the table holds no brand's data, and finish() decides for certain.
        seen = await fetchval_clean(
            self.pool,
            f'SELECT true FROM "{self.schema}".processed_events WHERE handler = $1 AND event_id = $2',
            route.name,
            envelope.id,
        )
        if seen:
            return "duplicate"
        entry = InboxEntry(self, route, envelope)
        try:
            await route.handler(entry, envelope, data)
            if not entry.finished:  # the handler had nothing to write: record the event alone
                async with entry.finish():
                    pass
        except AlreadyHandled:
            return "duplicate"
        return "handled"

    async def _dead_letter(
        self, topic, partition, offset, key, value, headers, reason, detail, handler
    ) -> None:
        dlq_headers = {k: v.decode(errors="replace") for k, v in headers if k and not k.startswith("x-dlq-")}
        dlq_headers.update(
            {
                "x-dlq-reason": reason,
                "x-dlq-error": detail[:2000],
                "x-dlq-handler": handler,
                "x-dlq-consumer-group": self.group_id,
                "x-original-topic": topic,
                "x-original-partition": str(partition),
                "x-original-offset": str(offset),
                "x-dlq-time": datetime.now(UTC).isoformat(),
                "x-dlq-id": str(uuid.uuid4()),
            }
        )
        # If this publish fails we raise: FastStream seeks back and the message is retried,
        # so a poison message is never dropped silently.
        await self.broker.publish(value, topic=dlq_of(topic), key=key, headers=dlq_headers)
        DEAD_LETTERED.labels(topic, reason).inc()
        log.error(
            "message dead-lettered",
            extra={"ctx_topic": topic, "ctx_offset": offset, "ctx_reason": reason, "ctx_error": detail[:500]},
        )
