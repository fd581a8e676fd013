"""Event subscriptions: the account map, and the domain events brands can receive as webhooks."""

from __future__ import annotations

from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.events.connections import Connected, Disconnected
from aligned_common.inbox import EventRouter
from aligned_webhooks.adapters.unit_of_work import SqlUnitOfWork
from aligned_webhooks.domain.deliverable import DELIVERABLE_MODELS
from aligned_webhooks.service_layer import accounts, fanout


def event_router(service: str = "webhooks") -> EventRouter:
    """A fresh router per service instance; `service` names the consumer group and the schema
    (tests run the service under a scratch name). Each handler runs in the inbox's unit of work,
    with this service's repositories on it."""
    events = EventRouter(service=service)

    @events.on(Connected, name="on_connected")
    async def on_connected(uow: UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, Connected)  # the route's model
        await accounts.account_connected(SqlUnitOfWork.joined(uow), envelope, data)

    @events.on(Disconnected, name="on_disconnected")
    async def on_disconnected(uow: UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        assert isinstance(data, Disconnected)
        await accounts.account_disconnected(SqlUnitOfWork.joined(uow), envelope, data)

    async def deliver_to_endpoints(uow: UnitOfWork, envelope: EventEnvelope, data: EventData) -> None:
        await fanout.fan_out(SqlUnitOfWork.joined(uow), envelope)

    events.on(*DELIVERABLE_MODELS, name="deliver_to_endpoints")(deliver_to_endpoints)
    return events
