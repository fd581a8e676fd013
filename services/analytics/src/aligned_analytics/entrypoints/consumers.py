"""Events analytics consumes; each subscriber only hands the event to its handler.

The inbox hands each handler its open transaction (aligned_common.db.UnitOfWork, which also
records the event as handled); `joined` gives the service layer the same transaction as the
service's own unit of work (its repositories), so the handlers never see a connection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aligned_analytics.adapters.unit_of_work import PgUnitOfWork
from aligned_analytics.service_layer import sync
from aligned_analytics.service_layer.deps import Deps
from aligned_analytics.service_layer.unit_of_work import UnitOfWork
from aligned_common import db
from aligned_common.envelope import EventEnvelope
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


def joined(
    handler: Callable[[UnitOfWork, EventEnvelope, Any], Awaitable[None]],
) -> Callable[[db.UnitOfWork, EventEnvelope, Any], Awaitable[None]]:
    async def handle(tx: db.UnitOfWork, envelope: EventEnvelope, data: Any) -> None:
        await handler(PgUnitOfWork.joined(tx), envelope, data)

    return handle


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
    )(joined(sync.on_connection_event))
    # The ingest (batch=True): messages of a brand ready together commit in one transaction.
    events.on(MetricsFetched, name="on_metrics_fetched", batch=True)(joined(sync.on_metrics_fetched))
    events.on(MetricsFailed, name="on_metrics_failed")(joined(sync.on_metrics_failed))
    events.on(BrandCreated, name="on_brand_created")(joined(sync.on_brand_created))
    events.on(JobCreated, name="on_job_created", batch=True)(joined(sync.on_job_created))
    events.on(JobPublished, JobPartiallyPublished, name="on_job_published", batch=True)(
        joined(sync.on_job_published)
    )
    return events
