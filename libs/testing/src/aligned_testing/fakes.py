"""What every service's in-memory unit of work shares (its tests' fakes.py adds the repositories):
a store of tables that commits like a transaction, or rolls every change back."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Any, Self

from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData


@dataclass
class FakeTables:
    """Base of a service's fake store (a dataclass of its tables, each a list or dict)."""

    events: list[EventEnvelope] = field(default_factory=list)  # committed: the outbox
    commits: int = 0

    def events_of(self, kind: type[EventData]) -> list[Any]:
        return [kind.model_validate(e.data) for e in self.events if e.type == kind.event_type()]

    def _tables(self) -> list[str]:
        # Not tables: what committed, and the time (a clock the service holds too).
        return [f.name for f in fields(self) if f.name not in ("events", "commits", "now", "clock")]

    def snapshot(self) -> dict[str, Any]:
        return {name: copy.deepcopy(getattr(self, name)) for name in self._tables()}

    def restore(self, snapshot: dict[str, Any]) -> None:
        for name, value in snapshot.items():
            setattr(self, name, value)


class FakeTransaction:
    """`async with` commits the events it emitted into `store.events`, or, when the block
    raised, puts every table back as it was (the state change and its events vanish together)."""

    def __init__(self, store: FakeTables) -> None:
        self.store = store
        self.emitted: list[EventEnvelope] = []
        self.committed: bool | None = None  # once it has ended: whether it committed
        self._before: dict[str, Any] | None = None

    async def emit(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        return self.event(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)

    def event(
        self, data: EventData, *, brand_id: uuid.UUID, tenant_id: uuid.UUID, subject: str | None = None
    ) -> EventEnvelope:
        """The envelope commits with the transaction, as one a repository's statement writes."""
        envelope = new_event(data, brand_id=brand_id, tenant_id=tenant_id, subject=subject)
        self.emitted.append(envelope)
        return envelope

    async def __aenter__(self) -> Self:
        self._before = self.store.snapshot()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.committed = exc_type is None
        if exc_type is None:
            self.store.events.extend(self.emitted)
            self.store.commits += 1
        elif self._before is not None:
            self.store.restore(self._before)
