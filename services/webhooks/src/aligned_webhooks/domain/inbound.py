"""An inbound platform webhook in the provider-independent form the rest of the system reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from aligned_common.events.connections import MetricPoint
from aligned_common.events.engagement import PlatformItem

Kind = Literal["post_status_changed", "account_deauthorized", "metrics_pushed", "other", "engagement"]


class Rejection(StrEnum):
    """Why an inbound webhook was refused (the label of the rejection counter)."""

    UNKNOWN_PROVIDER = "unknown_provider"
    OVERSIZE = "oversize"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"


@dataclass(frozen=True)
class ParsedWebhook:
    """What a provider's parser understood from a verified body."""

    kind: Kind
    account_id: str | None = None
    remote_post_id: str | None = None
    post_status: str | None = None
    post_url: str | None = None
    occurred_at: datetime | None = None
    metrics: list[MetricPoint] = field(default_factory=list)
    item: PlatformItem | None = None  # kind engagement: a comment, mention or review (engagement reads it)


@dataclass(frozen=True)
class VerifiedDelivery:
    """An inbound webhook whose signature and timestamp were checked, with its parsed form."""

    provider: str
    provider_event_id: str
    signed_at: datetime
    headers: dict[str, str]
    raw_body: bytes
    parsed: ParsedWebhook


class IngestOutcome(StrEnum):
    ACCEPTED = "accepted"  # stored, and webhooks.received emitted for every brand of the account
    UNMATCHED = "unmatched"  # stored, but no brand has this account connected: nothing emitted
    DUPLICATE = "duplicate"  # the provider sent this event id before: nothing new


@dataclass(frozen=True)
class AccountOwner:
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
