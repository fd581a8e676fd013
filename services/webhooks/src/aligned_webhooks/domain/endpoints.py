"""Outbound endpoints: what a brand registers, and the rules about their secrets and health."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Endpoint:
    id: uuid.UUID
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    previous_secret_expires_at: datetime | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


def failing_too_long(failing_since: datetime | None, now: datetime, limit_s: float) -> bool:
    """An endpoint that has not taken one delivery for `limit_s` is switched off (and the brand told)."""
    return failing_since is not None and now - failing_since >= timedelta(seconds=limit_s)


def previous_secret_valid(expires_at: datetime | None, now: datetime) -> bool:
    """During a rotation's overlap both secrets sign, so receivers can switch at their own pace."""
    return expires_at is not None and now < expires_at
