"""Which brand owns a platform account, kept from the connections service's events."""

from __future__ import annotations

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import Connected, Disconnected
from aligned_webhooks.service_layer.ports import UnitOfWork


async def account_connected(uow: UnitOfWork, envelope: EventEnvelope, data: Connected) -> None:
    if not data.account_id:
        return  # nothing to route by
    # When the account was connected is the event's time (not when this consumer got to it).
    await uow.inbound.remember_account(
        data.platform,
        data.account_id,
        envelope.brand_id,
        envelope.tenant_id,
        data.connection_id,
        envelope.time,
    )


async def account_disconnected(uow: UnitOfWork, envelope: EventEnvelope, data: Disconnected) -> None:
    await uow.inbound.forget_account(envelope.brand_id, data.connection_id)
