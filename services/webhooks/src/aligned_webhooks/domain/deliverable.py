"""Which domain events a brand may subscribe an endpoint to, and the body it receives."""

from __future__ import annotations

import orjson

from aligned_common.envelope import EventEnvelope
from aligned_common.events import analytics, approval, connections, publishing, webhooks
from aligned_common.events.base import EventData

# Events about a brand's own posts, approvals and goals. Events that carry internal plumbing
# (attempt requests, sync requests) are not offered: they change without notice.
DELIVERABLE_MODELS: tuple[type[EventData], ...] = (
    publishing.JobPublished,
    publishing.JobPartiallyPublished,
    publishing.JobFailed,
    publishing.JobCancelled,
    approval.Approved,
    approval.Rejected,
    approval.ChangesRequested,
    approval.Escalated,
    analytics.GoalReached,
    connections.ConnectionExpired,
    connections.ConnectionRevoked,
    webhooks.EndpointDisabled,
)
DELIVERABLE_EVENT_TYPES: frozenset[str] = frozenset(m.event_type() for m in DELIVERABLE_MODELS)


def subscribes_to(event_types: list[str], event_type: str) -> bool:
    """An empty filter subscribes to every deliverable type."""
    return event_type in DELIVERABLE_EVENT_TYPES and (not event_types or event_type in event_types)


def delivery_body(envelope: EventEnvelope) -> bytes:
    """The JSON a receiver gets. `id` is the domain event's id: the same on every retry and replay,
    so a receiver can drop a delivery it already processed."""
    return orjson.dumps(
        {
            "id": str(envelope.id),
            "type": envelope.type,
            "timestamp": envelope.time.isoformat(),
            "brand_id": str(envelope.brand_id),
            "subject": envelope.subject,
            "data": envelope.data,
        }
    )
