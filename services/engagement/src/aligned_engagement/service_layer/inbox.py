"""The inbox: list, counts, one item with its history, state changes (one or many)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from aligned_common.events.engagement import ConversationChanged, ConversationState
from aligned_engagement.domain.errors import IllegalTransition, ItemNotFound
from aligned_engagement.domain.model import MANUAL_STATES, STATES, Item
from aligned_engagement.domain.replies import Reply
from aligned_engagement.service_layer.ports import InboxFilter, UnitOfWork


@dataclass(frozen=True)
class ItemDetail:
    item: Item
    history: list[dict[str, object]]
    replies: list[Reply]


async def page(
    uow: UnitOfWork, where: InboxFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> tuple[list[Item], tuple[datetime, uuid.UUID] | None]:
    """Newest first; the next page starts after the last item's (received_at, id)."""
    rows = await uow.items.page(where, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].received_at, rows[-1].id) if more else None)


async def counts(uow: UnitOfWork) -> dict[str, int]:
    found = await uow.items.counts()
    return {state: found.get(state, 0) for state in STATES}


async def detail(uow: UnitOfWork, item_id: uuid.UUID) -> ItemDetail:
    item = await uow.items.get(item_id)
    if item is None:
        raise ItemNotFound(f"no inbox item {item_id}")
    return ItemDetail(item, await uow.items.history(item_id), await uow.replies.of_item(item_id))


async def change_state(
    uow: UnitOfWork,
    item_id: uuid.UUID,
    to: ConversationState,
    *,
    assignee_id: str | None,
    actor: str | None,
    now: datetime,
) -> Item:
    if to not in MANUAL_STATES:
        raise IllegalTransition(f"{to} is reached by sending a reply, not set by hand")
    item = await uow.items.get(item_id, lock=True)
    if item is None:
        raise ItemNotFound(f"no inbox item {item_id}")
    moved = item.moved(to, assignee_id=assignee_id, actor=actor, at=now)
    await record_move(uow, item, moved)
    return moved


async def change_states(
    uow: UnitOfWork,
    item_ids: list[uuid.UUID],
    to: ConversationState,
    *,
    assignee_id: str | None,
    actor: str | None,
    now: datetime,
) -> list[Item]:
    """All or nothing, in one transaction: one unknown id or refused change refuses the batch."""
    return [
        await change_state(uow, item_id, to, assignee_id=assignee_id, actor=actor, now=now)
        for item_id in dict.fromkeys(item_ids)  # a repeated id is changed once
    ]


async def record_move(uow: UnitOfWork, before: Item, after: Item) -> None:
    """The new state, its history row and its event, in the caller's transaction."""
    await uow.items.save_state(after)
    await uow.emit(
        ConversationChanged(
            item_id=after.id,
            from_state=before.state,
            to_state=after.state,
            assignee_id=after.assignee_id,
            actor=after.changes[-1].actor if after.changes else None,
        ),
        brand_id=after.brand_id,
        tenant_id=after.tenant_id,
        subject=str(after.id),
    )
