"""Events in: each handler runs once per event id, in the inbox's transaction."""

from __future__ import annotations

from aligned_common import db
from aligned_common.envelope import EventEnvelope
from aligned_common.events.gateway import BrandCreated
from aligned_common.inbox import EventRouter
from aligned_example.adapters.unit_of_work import SqlUnitOfWork
from aligned_example.service_layer import handlers

# Its handlers need nothing of Deps; a router whose handlers do is made by a function that
# takes them (`def build_router(deps: Deps) -> EventRouter`, called in bootstrap.build()).
events = EventRouter(service="example")


# `name` is what the inbox records with each event id: keep it when renaming the function.
@events.on(BrandCreated, name="on_brand_created")
async def on_brand_created(tx: db.UnitOfWork, envelope: EventEnvelope, data: BrandCreated) -> None:
    # joined: the inbox's transaction, which also records the event as handled, as our unit of work
    await handlers.record_brand(SqlUnitOfWork.joined(tx), envelope.brand_id, data.name, envelope.time)
