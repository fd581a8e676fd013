"""Domain events -> deliveries: one row per subscribed endpoint of the event's brand."""

from __future__ import annotations

from aligned_common.envelope import EventEnvelope
from aligned_webhooks.domain.deliverable import delivery_body
from aligned_webhooks.service_layer.ports import UnitOfWork


async def fan_out(uow: UnitOfWork, envelope: EventEnvelope) -> int:
    """Runs in the inbox's unit of work (brand-scoped), so a redelivered event adds nothing."""
    endpoint_ids = await uow.endpoints.subscribed(envelope.brand_id, envelope.type)
    if not endpoint_ids:
        return 0
    created = await uow.deliveries.insert_many(
        envelope.brand_id, endpoint_ids, envelope.id, envelope.type, delivery_body(envelope)
    )
    await uow.wake_deliveries()
    return created
