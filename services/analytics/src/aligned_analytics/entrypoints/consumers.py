"""Events analytics consumes; each subscriber only hands the event to its handler."""

from __future__ import annotations

from aligned_analytics.service_layer import sync
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    ConnectionRevoked,
    Disconnected,
    MetricsFailed,
    MetricsFetched,
)
from aligned_common.events.gateway import BrandCreated
from aligned_common.events.publishing import JobCreated, JobPartiallyPublished, JobPublished
from aligned_common.inbox import EventRouter


def event_router(service: str = "analytics") -> EventRouter:
    """A router per service instance: `service` names its consumer group (tests pass a scratch name)."""
    events = EventRouter(service=service)
    events.on(
        Connected,
        ConnectionExpired,
        ConnectionRevoked,
        ConnectionRestored,
        Disconnected,
        name="on_connection_event",
    )(sync.on_connection_event)
    # The ingest (batch=True): messages of a brand ready together commit in one transaction.
    events.on(MetricsFetched, name="on_metrics_fetched", batch=True)(sync.on_metrics_fetched)
    events.on(MetricsFailed, name="on_metrics_failed")(sync.on_metrics_failed)
    events.on(BrandCreated, name="on_brand_created")(sync.on_brand_created)
    events.on(JobCreated, name="on_job_created", batch=True)(sync.on_job_created)
    events.on(JobPublished, JobPartiallyPublished, name="on_job_published", batch=True)(sync.on_job_published)
    return events
