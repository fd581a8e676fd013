"""Events in: each handler runs once per event id, in the inbox's transaction."""

from __future__ import annotations

from aligned_common import db
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.events.connections import (
    Connected,
    ConnectionExpired,
    ConnectionRestored,
    ConnectionRevoked,
    Disconnected,
    EngagementFetched,
    ReplyFailed,
    ReplySent,
)
from aligned_common.events.gateway import BrandCreated
from aligned_common.events.webhooks import Received
from aligned_common.inbox import EventRouter
from aligned_engagement.adapters.unit_of_work import SqlUnitOfWork
from aligned_engagement.service_layer import ingest, replies
from aligned_engagement.service_layer.deps import Deps
from aligned_engagement.service_layer.ports import KnownConnection

_STATUS = {
    Connected: "connected",
    ConnectionRestored: "connected",
    ConnectionExpired: "expired",
    ConnectionRevoked: "revoked",
    Disconnected: "disconnected",
}


def build_router(deps: Deps, service: str = "engagement") -> EventRouter:
    """`service` names the consumer group (`aligned-<service>`): tests run scratch copies."""
    events = EventRouter(service=service)

    # `name` is what the inbox records with each event id: keep it when renaming a function.
    @events.on(
        Connected,
        ConnectionExpired,
        ConnectionRevoked,
        ConnectionRestored,
        Disconnected,
        name="on_connection",
    )
    async def on_connection(tx: db.UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(
            data, Connected | ConnectionExpired | ConnectionRevoked | ConnectionRestored | Disconnected
        )
        connection = KnownConnection(
            data.connection_id, envelope.brand_id, data.platform, data.account_id, _STATUS[type(data)]
        )
        await ingest.record_connection(SqlUnitOfWork.joined(tx), connection)

    @events.on(BrandCreated, name="on_brand_created")
    async def on_brand_created(tx: db.UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, BrandCreated)
        await ingest.record_brand(SqlUnitOfWork.joined(tx), envelope.brand_id, data.name)

    @events.on(Received, name="on_webhook_received")
    async def on_webhook_received(tx: db.UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, Received)
        await ingest.on_webhook(
            SqlUnitOfWork.joined(tx), envelope.brand_id, envelope.tenant_id, data, deps.clock.now()
        )

    @events.on(EngagementFetched, name="on_engagement_fetched")
    async def on_engagement_fetched(tx: db.UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, EngagementFetched)
        await ingest.on_fetched(
            SqlUnitOfWork.joined(tx), envelope.brand_id, envelope.tenant_id, data, deps.clock.now()
        )

    @events.on(ReplySent, ReplyFailed, name="on_reply_outcome")
    async def on_reply_outcome(tx: db.UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, ReplySent | ReplyFailed)
        await replies.on_outcome(SqlUnitOfWork.joined(tx), data, deps.clock.now())

    return events
