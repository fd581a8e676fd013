"""Event subscriptions: the account map, and the domain events brands can receive as webhooks."""

from __future__ import annotations

from aligned_common.events.connections import Connected, Disconnected
from aligned_common.inbox import EventRouter
from aligned_webhooks.domain.deliverable import DELIVERABLE_MODELS
from aligned_webhooks.entrypoints.delivery_loop import wake_channel
from aligned_webhooks.service_layer import accounts, fanout


def event_router(service: str = "webhooks") -> EventRouter:
    """A fresh router per service instance; `service` names the consumer group and the schema
    (tests run the service under a scratch name)."""
    events = EventRouter(service=service)

    @events.on(Connected, name="on_connected")
    async def on_connected(uow, envelope, data):
        await accounts.account_connected(uow, envelope, data)

    @events.on(Disconnected, name="on_disconnected")
    async def on_disconnected(uow, envelope, data):
        await accounts.account_disconnected(uow, envelope, data)

    async def deliver_to_endpoints(uow, envelope, data):
        await fanout.fan_out(uow, envelope, wake_channel(uow.schema))

    events.on(*DELIVERABLE_MODELS, name="deliver_to_endpoints")(deliver_to_endpoints)
    return events
