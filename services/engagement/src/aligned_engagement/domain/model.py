"""The inbox's items and their conversation state (no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import get_args

from aligned_common.events.engagement import ConversationState, ItemKind, PlatformItem
from aligned_engagement.domain.errors import IllegalTransition, NotReplyable

STATES: tuple[ConversationState, ...] = get_args(ConversationState)
# Every state may be left for any other except these: a reply is the outcome of a sent reply
# (never set by hand), and spam or done are only left by reopening (back to open).
TRANSITIONS: dict[ConversationState, frozenset[ConversationState]] = {
    "open": frozenset({"assigned", "replied", "done", "spam"}),
    "assigned": frozenset({"open", "assigned", "replied", "done", "spam"}),
    "replied": frozenset({"open", "assigned", "replied", "done", "spam"}),
    "done": frozenset({"open"}),
    "spam": frozenset({"open"}),
}
MANUAL_STATES: frozenset[ConversationState] = frozenset({"open", "assigned", "done", "spam"})


@dataclass(frozen=True)
class Change:
    """One step of an item's history."""

    from_state: ConversationState
    to_state: ConversationState
    assignee_id: str | None
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    kind: ItemKind
    platform_item_id: str
    remote_post_id: str | None
    parent_id: str | None
    author_id: str | None
    author_name: str
    text: str
    rating: int | None
    language: str | None
    url: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    received_at: datetime
    sources: tuple[str, ...]
    state: ConversationState = "open"
    assignee_id: str | None = None
    first_response_at: datetime | None = None
    sla_breached_at: datetime | None = None
    changes: list[Change] = field(default_factory=list, compare=False)

    @classmethod
    def received(
        cls,
        item: PlatformItem,
        *,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        source: str,
        now: datetime,
    ) -> Item:
        return cls(
            id=uuid.uuid4(),
            brand_id=brand_id,
            tenant_id=tenant_id,
            connection_id=connection_id,
            platform=platform,
            kind=item.kind,
            platform_item_id=item.platform_item_id,
            remote_post_id=item.remote_post_id,
            parent_id=item.parent_id,
            author_id=item.author_id,
            author_name=item.author_name,
            text=item.text,
            rating=item.rating,
            language=item.language,
            url=item.url,
            created_at=item.created_at,
            edited_at=item.edited_at,
            deleted=item.deleted,
            received_at=now,
            sources=(source,),
        )

    def reported_again(self, item: PlatformItem) -> Item | None:
        """The platform's newer word on this item (an edit, a deletion), or None when it says
        nothing new: a second delivery of the same item is no change."""
        if self.deleted:
            return None  # a deletion is final; a late poll of the old text does not undo it
        if item.deleted:
            return replace(self, deleted=True)
        newer = item.edited_at is not None and (self.edited_at is None or item.edited_at > self.edited_at)
        if newer and item.text != self.text:
            return replace(self, text=item.text, edited_at=item.edited_at, rating=item.rating or self.rating)
        return None

    def moved(
        self, to: ConversationState, *, assignee_id: str | None, actor: str | None, at: datetime
    ) -> Item:
        """The one way a state changes: checked against TRANSITIONS, recorded in `changes`."""
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"an item that is {self.state} cannot become {to}", state=self.state)
        assignee = assignee_id if to == "assigned" else self.assignee_id if to == "replied" else None
        if to == "assigned" and not assignee:
            raise IllegalTransition("assigning needs an assignee_id")
        change = Change(self.state, to, assignee, actor, at)
        first = self.first_response_at or (at if to in ("replied", "done", "spam") else None)
        return replace(
            self, state=to, assignee_id=assignee, first_response_at=first, changes=[*self.changes, change]
        )

    def check_replyable(self) -> None:
        if self.deleted:
            raise NotReplyable("the item was deleted on the platform")
        if self.state == "spam":
            raise NotReplyable("the item is marked as spam")

    def sla_due(self, hours: float, now: datetime, hour_s: float = 3600.0) -> bool:
        """Unanswered past its brand's first-response time, and not announced before."""
        return (
            self.first_response_at is None
            and self.sla_breached_at is None
            and self.state in ("open", "assigned")
            and now >= self.received_at + timedelta(seconds=hours * hour_s)
        )


def is_own(item: PlatformItem) -> bool:
    """Our own replies come back in a poll as comments by the connected account: not inbox items."""
    return item.author_id is not None and item.author_id == item.account_id
