"""Domain events -> deliveries: one row per subscribed endpoint of the event's brand."""

from __future__ import annotations

from aligned_common.db import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_webhooks.adapters import delivery_store, endpoint_store
from aligned_webhooks.domain.deliverable import delivery_body


async def fan_out(uow: UnitOfWork, envelope: EventEnvelope, wake_channel: str) -> int:
    """Runs in the inbox's unit of work (brand-scoped), so a redelivered event adds nothing."""
    endpoint_ids = await endpoint_store.subscribed(uow.conn, envelope.brand_id, envelope.type)
    if not endpoint_ids:
        return 0
    created = await delivery_store.insert_many(
        uow.conn, envelope.brand_id, endpoint_ids, envelope.id, envelope.type, delivery_body(envelope)
    )
    # Delivered at commit: the delivery loop listens and claims at once instead of at its next poll.
    await uow.conn.execute("SELECT pg_notify($1, '')", wake_channel)
    return created
