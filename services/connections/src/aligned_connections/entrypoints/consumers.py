"""Event subscriptions: translate the event, call the handler."""

from __future__ import annotations

from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.analytics import SyncRequested
from aligned_common.events.base import EventData
from aligned_common.events.engagement import ReplyRequested
from aligned_common.events.publishing import AttemptRequested
from aligned_common.events.webhooks import Received
from aligned_common.inbox import EventRouter, InboxEntry
from aligned_connections.adapters.unit_of_work import SqlUnitOfWork
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.engagement import handle_reply_requested
from aligned_connections.service_layer.metrics import handle_sync_requested
from aligned_connections.service_layer.platform_webhooks import handle_received
from aligned_connections.service_layer.publish import handle_attempt_requested


def build_event_router(deps: Deps, service: str = "connections") -> EventRouter:
    """`service` names the consumer group (`aligned-<service>`): tests run scratch copies."""
    events = EventRouter(service=service)

    # transaction=False: these call a platform, and hold no transaction or pooled connection
    # while they wait for it (the handler writes its outcome in deps.finish(entry)). Ordered per
    # job / per sync (the envelope's subject, the default): attempts of different jobs overlap.
    @events.on(AttemptRequested, transaction=False, name="on_attempt_requested")
    async def on_attempt_requested(entry: InboxEntry, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, AttemptRequested)  # the route's model
        await handle_attempt_requested(deps, entry, envelope, data)

    @events.on(SyncRequested, transaction=False, name="on_sync_requested")
    async def on_sync_requested(entry: InboxEntry, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, SyncRequested)
        await handle_sync_requested(deps, entry, envelope, data)

    # role="worker": a platform webhook names an account, which several brands may have connected.
    @events.on(Received, role="worker", name="on_webhook_received")
    async def on_webhook_received(uow: UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, Received)
        await handle_received(SqlUnitOfWork.joined(uow), data)

    # transaction=False like an attempt: the reply is a platform call (engagement's inbox, issue 25).
    @events.on(ReplyRequested, transaction=False, name="on_reply_requested")
    async def on_reply_requested(entry: InboxEntry, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, ReplyRequested)
        await handle_reply_requested(deps, entry, envelope, data)

    return events
