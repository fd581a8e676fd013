"""The inbox: idempotent, retried, dead-lettering event consumers on FastStream.

`EventRouter` maps event types to plain async handler functions; `attach` subscribes
a service's consumer group to the topics its handlers need. For each message:

1. bytes -> envelope -> typed data; malformed bytes or an unknown type go to the DLQ;
2. in one unit of work (scoped to the event's brand): record (handler, event id) in
   processed_events; if it was there already the event is a redelivery and nothing runs;
   otherwise the handler runs and its state change commits with that record;
3. a failing handler is retried with backoff `max_retries` times, then the message goes
   to `<topic>.dlq` with the error, handler and original offset in headers;
4. only then does FastStream commit the offset (NACK_ON_ERROR seeks back if we raise).

An outage of our own database is not the message's fault: it is retried without
limit instead of dead-lettering good messages (ADR 0002).
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from pydantic import ValidationError

from aligned_common.db import Role, UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.events.registry import EVENT_TYPES, dlq_of, topic_of
from aligned_common.metrics import CONSUMED, DEAD_LETTERED, HANDLER_SECONDS
from aligned_common.telemetry import context_from_kafka_headers, tracer

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, EventEnvelope, EventData], Awaitable[None]]

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


@dataclass
class _Route:
    name: str
    handler: Handler
    role: Role


@dataclass
class EventRouter:
    """Which handler runs for which event type, in one service."""

    service: str
    routes: dict[str, _Route] = field(default_factory=dict)

    def on(self, model: type[EventData], *, role: Role = "app") -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            event_type = model.event_type()
            if event_type in self.routes:
                raise ValueError(f"{event_type} already has a handler in {self.service}")
            self.routes[event_type] = _Route(f"{self.service}.{handler.__name__}", handler, role)
            return handler

        return register

    def topics(self) -> list[str]:
        return sorted({topic_of(t) for t in self.routes})


@dataclass
class ConsumerSettings:
    max_retries: int = 3
    retry_base_s: float = 0.2
    transient_max_backoff_s: float = 10.0


class PoisonMessage(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class InboxConsumer:
    """Runs one message through parse -> dedupe -> handler -> commit, or to the DLQ."""

    def __init__(
        self,
        router: EventRouter,
        pool: asyncpg.Pool,
        schema: str,
        broker: KafkaBroker,
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.router = router
        self.pool = pool
        self.schema = schema
        self.broker = broker
        self.settings = settings or ConsumerSettings()

    @property
    def group_id(self) -> str:
        return f"aligned-{self.router.service}"

    def attach(self) -> None:
        # One Kafka consumer for all the router's topics: each extra member of a group
        # costs a rebalance at start-up (seconds each).
        self.broker.subscriber(
            *self.router.topics(),
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            max_poll_interval_ms=10 * 60 * 1000,
        )(self._on_message)

    async def _on_message(self, message: KafkaMessage) -> None:
        record = message.raw_message
        headers = list(record.headers or [])
        if self._not_ours(headers):
            return  # a valid event of another consumer: skip it without parsing the body
        with tracer().start_as_current_span(
            f"consume {record.topic}",
            context=context_from_kafka_headers(headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": record.topic},
        ):
            await self.handle_record(record.topic, record.partition, record.offset, record.key, record.value, headers)

    def _not_ours(self, headers: list[tuple[str, bytes]]) -> bool:
        # The relay stamps each message with its event type. A new consumer group reads
        # the topic from the start, so skipping cheaply what it does not handle matters.
        for key, value in headers:
            if key == "event_type":
                event_type = value.decode(errors="replace")
                return event_type in EVENT_TYPES and event_type not in self.router.routes
        return False

    async def handle_record(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]],
    ) -> str:
        """Returns the outcome: handled, duplicate, ignored or dead_lettered."""
        try:
            envelope, data = self._parse(value)
        except PoisonMessage as poison:
            await self._dead_letter(topic, partition, offset, key, value, headers, poison.reason, poison.detail, "-")
            return "dead_lettered"
        route = self.router.routes.get(envelope.type)
        if route is None:
            return "ignored"  # another service's event on a shared topic
        return await self._run_with_retries(route, envelope, data, topic, partition, offset, key, value, headers)

    def _parse(self, value: bytes) -> tuple[EventEnvelope, EventData]:
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

    async def _run_with_retries(self, route, envelope, data, topic, partition, offset, key, value, headers) -> str:
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
                    extra={"ctx_handler": route.name, "ctx_event_id": str(envelope.id), "ctx_error": repr(exc)},
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
        async with UnitOfWork(self.pool, self.schema, brand_id=envelope.brand_id, role=route.role) as uow:
            first_time = await uow.conn.fetchval(
                """INSERT INTO processed_events (handler, event_id, event_type) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING RETURNING true""",
                route.name,
                envelope.id,
                envelope.type,
            )
            if not first_time:
                return "duplicate"
            await route.handler(uow, envelope, data)
        return "handled"

    async def _dead_letter(self, topic, partition, offset, key, value, headers, reason, detail, handler) -> None:
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
