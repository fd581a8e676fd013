"""Items in, from either path: a platform's webhook (webhooks.received) or connections' poll
(connections.engagement_fetched). Each item is stored once per (connection, platform id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from aligned_common.events.connections import EngagementFetched
from aligned_common.events.engagement import ItemReceived, ItemUpdated, PlatformItem
from aligned_common.events.webhooks import Received
from aligned_engagement.domain.model import Item, is_own
from aligned_engagement.service_layer.ports import KnownConnection, UnitOfWork

Source = Literal["webhook", "poll"]


async def ingest(
    uow: UnitOfWork,
    connection: KnownConnection,
    tenant_id: uuid.UUID,
    item: PlatformItem,
    source: Source,
    now: datetime,
) -> Item | None:
    """The stored item, or None for what is not an inbox item (our own replies)."""
    if is_own(item):
        return None
    new = Item.received(
        item,
        brand_id=connection.brand_id,
        tenant_id=tenant_id,
        connection_id=connection.connection_id,
        platform=connection.platform,
        source=source,
        now=now,
    )
    if await uow.items.add(new):  # one statement: of two paths at once, one adds, one finds
        if new.kind == "review":
            await uow.reviews.upsert(new)
        await uow.emit(
            ItemReceived(
                item_id=new.id,
                connection_id=new.connection_id,
                platform=new.platform,
                kind=new.kind,
                platform_item_id=new.platform_item_id,
                remote_post_id=new.remote_post_id,
                author_name=new.author_name,
                text=new.text,
            ),
            brand_id=new.brand_id,
            tenant_id=tenant_id,
            subject=str(new.id),
        )
        return new
    stored = await uow.items.find(connection.connection_id, item.platform_item_id, lock=True)
    if stored is None:  # cannot happen: the add above saw it
        return None
    updated = stored.reported_again(item)
    if updated is None:
        if source not in stored.sources:
            await uow.items.add_source(stored.id, source)
        return stored
    await uow.items.save_content(updated, source)
    if updated.kind == "review":
        await uow.reviews.upsert(updated)
    await uow.emit(
        ItemUpdated(item_id=updated.id, text=updated.text, deleted=updated.deleted),
        brand_id=updated.brand_id,
        tenant_id=tenant_id,
        subject=str(updated.id),
    )
    return updated


async def on_webhook(
    uow: UnitOfWork, brand_id: uuid.UUID, tenant_id: uuid.UUID, data: Received, now: datetime
) -> None:
    """A platform pushed an item: the webhooks service verified it and found the brand by its
    account; which of the brand's connections that account is, our projection says."""
    if data.kind != "engagement" or data.item is None:
        return
    connection = await uow.connections.of_account(data.provider, data.item.account_id)
    if connection is None or connection.brand_id != brand_id:
        # Not (yet) a connection of this brand: the poll brings the item once connected.
        return
    await ingest(uow, connection, tenant_id, data.item, "webhook", now)


async def on_fetched(
    uow: UnitOfWork, brand_id: uuid.UUID, tenant_id: uuid.UUID, data: EngagementFetched, now: datetime
) -> int:
    connection = await uow.connections.get(data.connection_id)
    if connection is None:
        # connections emits connected before it ever polls, on the same topic and key (the brand):
        # a fetch of a connection we do not know is a stray one; it is asked again next poll.
        connection = KnownConnection(data.connection_id, brand_id, data.platform, None, "connected")
        await uow.connections.upsert(connection)
    stored = 0
    for item in data.items:
        stored += await ingest(uow, connection, tenant_id, item, "poll", now) is not None
    return stored


async def record_connection(uow: UnitOfWork, connection: KnownConnection) -> None:
    await uow.connections.upsert(connection)


async def record_brand(uow: UnitOfWork, brand_id: uuid.UUID, name: str) -> None:
    await uow.brands.save(brand_id, name)
