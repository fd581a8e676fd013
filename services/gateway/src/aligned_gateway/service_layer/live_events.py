"""The live-event hub: a bounded ring buffer per brand (for Last-Event-ID resumption
within the retention window) and the open streams that wait for new events.

Pure in-memory logic; adapters/event_feed.py fills it from Kafka. Every replica keeps
its own copy of the window, so a stream can reconnect to any replica.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from aligned_common.envelope import EventEnvelope


@dataclass(frozen=True)
class LiveEvent:
    id: str
    type: str
    brand_id: uuid.UUID
    received_at: float  # wall clock, seconds
    payload: str  # the envelope as JSON, what the stream sends


@dataclass(eq=False)
class Subscriber:
    brand_id: uuid.UUID
    user_id: str = ""
    queue: asyncio.Queue[LiveEvent] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False  # too slow to keep up: the stream ends and the client resumes


class StreamLimit(Exception):
    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{limit} open streams per {scope}")
        self.scope = scope
        self.limit = limit


@dataclass
class _BrandBuffer:
    events: deque[LiveEvent]
    ids: set[str] = field(default_factory=set)


class Hub:
    def __init__(self, per_brand: int, retention_s: float) -> None:
        self._per_brand = per_brand
        self._retention_s = retention_s
        self._buffers: dict[uuid.UUID, _BrandBuffer] = {}
        self._subscribers: dict[uuid.UUID, set[Subscriber]] = {}

    def publish(self, envelope: EventEnvelope, received_at: float | None = None) -> LiveEvent | None:
        """Buffer and fan out one event; a redelivered event id is ignored (None)."""
        buffer = self._buffers.setdefault(envelope.brand_id, _BrandBuffer(deque()))
        event_id = str(envelope.id)
        if event_id in buffer.ids:
            return None
        # Without the actor: the client's IP address and user agent are for the audit trail's
        # readers (owner, admin), not for everyone who watches the brand's live feed.
        event = LiveEvent(
            event_id,
            envelope.type,
            envelope.brand_id,
            received_at or time.time(),
            envelope.model_dump_json(exclude={"actor"}),
        )
        buffer.events.append(event)
        buffer.ids.add(event_id)
        self._trim(buffer)
        for subscriber in self._subscribers.get(envelope.brand_id, ()):
            try:
                subscriber.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscriber.overflowed = True
        return event

    def _trim(self, buffer: _BrandBuffer) -> None:
        oldest_kept = time.time() - self._retention_s
        while buffer.events and (
            len(buffer.events) > self._per_brand or buffer.events[0].received_at < oldest_kept
        ):
            buffer.ids.discard(buffer.events.popleft().id)

    def since(self, brand_id: uuid.UUID, last_event_id: str) -> tuple[list[LiveEvent], bool]:
        """Events after `last_event_id`; found=False when it fell out of the window."""
        buffer = self._buffers.get(brand_id)
        if buffer is None:
            return [], False
        self._trim(buffer)
        if last_event_id not in buffer.ids:
            return list(buffer.events), False
        events = list(buffer.events)
        position = next(i for i, e in enumerate(events) if e.id == last_event_id)
        return events[position + 1 :], True

    def subscribe(
        self,
        brand_id: uuid.UUID,
        user_id: str = "",
        *,
        max_per_user: int | None = None,
        max_per_brand: int | None = None,
    ) -> Subscriber:
        """A new open stream; StreamLimit when the user or the brand has as many as allowed."""
        open_streams = self._subscribers.setdefault(brand_id, set())
        if max_per_brand is not None and len(open_streams) >= max_per_brand:
            raise StreamLimit("brand", max_per_brand)
        if max_per_user is not None and sum(s.user_id == user_id for s in open_streams) >= max_per_user:
            raise StreamLimit("user", max_per_user)
        subscriber = Subscriber(brand_id, user_id)
        open_streams.add(subscriber)
        return subscriber

    def subscriber_count(self, brand_id: uuid.UUID, user_id: str | None = None) -> int:
        return sum(user_id is None or s.user_id == user_id for s in self._subscribers.get(brand_id, ()))

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.get(subscriber.brand_id, set()).discard(subscriber)
