"""Events owned by the webhooks service (topic aligned.webhooks.events)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from aligned_common.events.base import EventData
from aligned_common.events.connections import MetricPoint
from aligned_common.events.engagement import PlatformItem


class Received(EventData):
    """An inbound platform webhook in a provider-independent form."""

    event_type_name = "webhooks.received"
    webhook_event_id: uuid.UUID
    provider: str
    provider_event_id: str
    kind: Literal["post_status_changed", "account_deauthorized", "metrics_pushed", "other", "engagement"]
    account_id: str | None = None
    remote_post_id: str | None = None
    post_status: str | None = None
    metrics: list[MetricPoint] = Field(default_factory=list)
    post_url: str | None = None
    occurred_at: AwareDatetime | None = Field(default=None, description="When the platform says it happened")
    item: PlatformItem | None = Field(
        default=None, description="kind engagement: the comment, mention or review"
    )


class EndpointDisabled(EventData):
    event_type_name = "webhooks.endpoint_disabled"
    endpoint_id: uuid.UUID
    url: str
    reason: str
