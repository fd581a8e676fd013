"""Events owned by the connections service (topic aligned.connections.events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from aligned_common.events.base import EventData
from aligned_common.events.engagement import PlatformItem


class _ConnectionEvent(EventData):
    connection_id: uuid.UUID
    platform: str
    account_id: str | None = None


class Connected(_ConnectionEvent):
    event_type_name = "connections.connected"
    account_name: str | None = None


class ConnectionExpired(_ConnectionEvent):
    event_type_name = "connections.connection_expired"
    reason: str


class ConnectionRevoked(_ConnectionEvent):
    event_type_name = "connections.connection_revoked"
    reason: str


class ConnectionRestored(_ConnectionEvent):
    event_type_name = "connections.connection_restored"


class Disconnected(_ConnectionEvent):
    event_type_name = "connections.disconnected"


class PostPublished(EventData):
    event_type_name = "connections.post_published"
    job_id: uuid.UUID
    target_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    idempotency_key: str
    attempt: int = Field(ge=1)
    remote_id: str
    url: str | None = None


PostFailureReason = Literal[
    "retryable",
    "rejected",
    "auth_failure",
    "connection_expired",
    "connection_revoked",
    "unknown_outcome",
    "rate_limited",
]


class PostFailed(EventData):
    event_type_name = "connections.post_failed"
    job_id: uuid.UUID
    target_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    idempotency_key: str
    attempt: int = Field(ge=1)
    retryable: bool
    reason: PostFailureReason
    retry_after_s: float | None = None
    platform_message: str | None = None


class MetricPoint(BaseModel):
    remote_id: str | None = Field(default=None, description="None for account-level metrics")
    name: str
    value: float
    observed_at: AwareDatetime


class MetricsFetched(EventData):
    event_type_name = "connections.metrics_fetched"
    sync_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    points: list[MetricPoint]


class MetricsFailed(EventData):
    event_type_name = "connections.metrics_failed"
    sync_id: uuid.UUID
    connection_id: uuid.UUID
    platform: str
    reason: str
    platform_message: str | None = None


class EngagementFetched(EventData):
    """What a poll of one connected account found (comments on our posts, mentions, reviews)."""

    event_type_name = "connections.engagement_fetched"
    connection_id: uuid.UUID
    platform: str
    items: list[PlatformItem]


class ReplySent(EventData):
    event_type_name = "connections.reply_sent"
    reply_id: uuid.UUID
    connection_id: uuid.UUID
    idempotency_key: str
    remote_id: str
    url: str | None = None


class ReplyFailed(EventData):
    event_type_name = "connections.reply_failed"
    reply_id: uuid.UUID
    connection_id: uuid.UUID
    idempotency_key: str
    reason: str
    platform_message: str | None = None
