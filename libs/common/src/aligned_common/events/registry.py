"""Maps an event type (`publishing.job_created`) to its data model and topic."""

from __future__ import annotations

from aligned_common.events import (
    analytics,
    approval,
    brandkit,
    connections,
    engagement,
    gateway,
    publishing,
    webhooks,
)
from aligned_common.events.base import EventData

_MODULES = (publishing, approval, connections, analytics, webhooks, gateway, engagement, brandkit)


class UnknownEventType(LookupError):
    pass


def _collect() -> dict[str, type[EventData]]:
    found: dict[str, type[EventData]] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, EventData) and "event_type_name" in vars(value):
                found[value.event_type_name] = value
    return dict(sorted(found.items()))


EVENT_TYPES: dict[str, type[EventData]] = _collect()


def data_model_for(event_type: str) -> type[EventData]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {event_type!r}") from None


def topic_of(event_type: str) -> str:
    """One topic per owning service: aligned.<service>.events."""
    return f"aligned.{event_type.split('.', 1)[0]}.events"


def dlq_of(topic: str) -> str:
    return f"{topic}.dlq"


SERVICES_WITH_EVENTS: tuple[str, ...] = tuple(sorted({t.split(".", 1)[0] for t in EVENT_TYPES}))
ALL_TOPICS: tuple[str, ...] = tuple(f"aligned.{s}.events" for s in SERVICES_WITH_EVENTS)
