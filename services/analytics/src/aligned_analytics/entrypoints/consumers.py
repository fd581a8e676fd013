"""Events analytics consumes; each subscriber only hands the event to its handler.

The inbox hands each handler its open transaction (which also records the event as handled);
`joined` hands the service layer that transaction as the service's unit of work (its
repositories, aligned_common.units), so the handlers never see a connection.
"""

from __future__ import annotations

from aligned_analytics.adapters.unit_of_work import SqlUnitOfWork
from aligned_analytics.service_layer import sync
from aligned_analytics.service_layer.deps import Deps
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
from aligned_common.units import joined


def event_router(service: str, deps: Deps) -> EventRouter:
    """A router per service instance: `service` names its consumer group (tests pass a scratch name).
    The handlers need nothing of `deps` but their unit of work; it is here so every service's
    routers are built the same way."""
    events = EventRouter(service=service)
    events.on(
        Connected,
        ConnectionExpired,
        ConnectionRevoked,
        ConnectionRestored,
        Disconnected,
        name="on_connection_event",
    )(joined(SqlUnitOfWork, sync.on_connection_event))
    # The ingest (batch=True): messages of a brand ready together commit in one transaction.
    events.on(MetricsFetched, name="on_metrics_fetched", batch=True)(
        joined(SqlUnitOfWork, sync.on_metrics_fetched)
    )
    events.on(MetricsFailed, name="on_metrics_failed")(joined(SqlUnitOfWork, sync.on_metrics_failed))
    events.on(BrandCreated, name="on_brand_created")(joined(SqlUnitOfWork, sync.on_brand_created))
    events.on(JobCreated, name="on_job_created", batch=True)(joined(SqlUnitOfWork, sync.on_job_created))
    events.on(JobPublished, JobPartiallyPublished, name="on_job_published", batch=True)(
        joined(SqlUnitOfWork, sync.on_job_published)
    )
    return events
