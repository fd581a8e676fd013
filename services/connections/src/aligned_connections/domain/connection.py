"""A platform connection and the rules about its life: statuses, refresh backoff, who may post."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    CONNECTED = "connected"
    EXPIRED = "expired"  # the platform refused our refresh: the user must connect again
    REVOKED = "revoked"  # the user or the platform withdrew our access
    DISCONNECTED = "disconnected"  # a user of the brand disconnected it here
    ERROR = "error"  # the platform refused for good for another reason (see last_error)


class RefreshStep(StrEnum):
    """What a refresh asked of a connection does (before its refresh token is even opened)."""

    NOT_USABLE = "not_usable"  # expired, revoked, disconnected: only a new consent helps
    FRESH = "fresh"  # still valid long enough (another replica refreshed it meanwhile)
    REFRESH = "refresh"


# Statuses in which no platform call is made on the connection's behalf.
NOT_USABLE = {Status.EXPIRED, Status.REVOKED, Status.DISCONNECTED, Status.ERROR}


@dataclass(frozen=True)
class Connection:
    """A row of platform_connections; tokens stay ciphertexts until the vault opens them."""

    id: uuid.UUID
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    platform: str
    account_id: str
    account_name: str
    scopes: list[str]
    access_token_ct: str | None
    refresh_token_ct: str | None
    expires_at: datetime | None
    status: Status
    last_verified_at: datetime | None
    last_error: str | None
    refresh_failures: int
    next_refresh_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def can_refresh(self) -> bool:
        return self.refresh_token_ct is not None

    def expires_within(self, now: datetime, seconds: float) -> bool:
        return self.expires_at is not None and (self.expires_at - now).total_seconds() <= seconds

    def refresh_step(self, now: datetime, unless_valid_for_s: float | None = None) -> RefreshStep:
        """`unless_valid_for_s`: skip the refresh when the token is still good that long."""
        if self.status is not Status.CONNECTED:
            return RefreshStep.NOT_USABLE
        if unless_valid_for_s is not None and not self.expires_within(now, unless_valid_for_s):
            return RefreshStep.FRESH
        return RefreshStep.REFRESH

    def needs_refresh_before_use(self, now: datetime, margin_s: float) -> bool:
        """A publish refreshes first when the token would expire within `margin_s` (and can be)."""
        return self.can_refresh and self.expires_within(now, margin_s)


@dataclass(frozen=True)
class SealedTokens:
    """A connection's tokens as they are stored: sealed by the vault, and when access expires."""

    access_token_ct: str | None
    refresh_token_ct: str | None  # None on a refresh or reconnect: the stored one stays
    expires_at: datetime | None


def publish_refusal(status: Status) -> Literal["connection_expired", "connection_revoked"] | None:
    """The post_failed reason for a connection that must not be used, or None when it may."""
    if status is Status.CONNECTED:
        return None
    if status is Status.EXPIRED or status is Status.ERROR:
        return "connection_expired"
    return "connection_revoked"  # revoked by the platform, or disconnected by the brand


def refresh_backoff_s(failures: int, base_s: float, max_s: float) -> float:
    """Seconds until the next refresh try after `failures` transient failures in a row."""
    return min(max_s, base_s * 2.0 ** max(0, failures - 1))
