"""Events owned by the engagement service (topic aligned.engagement.events), and `PlatformItem`:
a comment, mention or review as the platform reported it, the one shape that the webhooks
service (a platform's push) and connections (its poll) both hand to engagement."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from aligned_common.events.base import EventData

ItemKind = Literal["comment", "reply", "mention", "quote", "direct_message", "review"]
ConversationState = Literal["open", "assigned", "replied", "done", "spam"]
ReplyKind = Literal["comment", "review"]


class PlatformItem(BaseModel):
    """One item on a platform. `platform_item_id` is the platform's own id: with the connection
    it is what engagement deduplicates by, whichever path (webhook or poll) brought it."""

    kind: ItemKind
    platform_item_id: str = Field(min_length=1, max_length=255)
    account_id: str = Field(description="the platform account the item was made on or about")
    remote_post_id: str | None = Field(default=None, description="our post, when the item is on or about one")
    parent_id: str | None = Field(default=None, description="the item it answers, when it answers one")
    author_id: str | None = None
    author_name: str = ""
    text: str = ""
    rating: int | None = Field(default=None, ge=1, le=5, description="reviews: stars")
    language: str | None = None
    url: str | None = None
    created_at: AwareDatetime
    edited_at: AwareDatetime | None = None
    deleted: bool = False


class ItemReceived(EventData):
    """A new item in a brand's inbox (not a redelivery of one it has)."""

    event_type_name = "engagement.item_received"
    item_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    kind: ItemKind
    platform_item_id: str
    remote_post_id: str | None = None
    author_name: str = ""
    text: str = ""


class ItemUpdated(EventData):
    """The platform says an item was edited or deleted."""

    event_type_name = "engagement.item_updated"
    item_id: uuid.UUID
    text: str
    deleted: bool


class ConversationChanged(EventData):
    event_type_name = "engagement.conversation_changed"
    item_id: uuid.UUID
    from_state: ConversationState
    to_state: ConversationState
    assignee_id: str | None = None
    actor: str | None = None


class ReplyRequested(EventData):
    """A command to connections: put this reply on the platform once (idempotency_key)."""

    event_type_name = "engagement.reply_requested"
    reply_id: uuid.UUID
    item_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    kind: ReplyKind
    in_reply_to_id: str = Field(description="the platform's id of the comment or review answered")
    remote_post_id: str | None = None
    text: str
    idempotency_key: str


class SlaBreached(EventData):
    """An item was left without a first response past its brand's SLA: emitted once per item."""

    event_type_name = "engagement.sla_breached"
    item_id: uuid.UUID
    kind: ItemKind
    received_at: AwareDatetime
    first_response_hours: float
