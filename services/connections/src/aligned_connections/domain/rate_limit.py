"""Token bucket arithmetic for per-account pacing (the state lives in PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated_at: datetime
    blocked_until: datetime | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tokens: float  # the bucket's level after this decision
    wait_s: float  # when not allowed: how long until a call would be


def take(bucket: Bucket, now: datetime, capacity: float, refill_per_s: float) -> Decision:
    """Take one token if there is one. A platform's Retry-After (blocked_until) wins over tokens."""
    elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
    level = min(capacity, bucket.tokens + elapsed * refill_per_s)
    if bucket.blocked_until is not None and bucket.blocked_until > now:
        return Decision(False, level, (bucket.blocked_until - now).total_seconds())
    if level >= 1.0:
        return Decision(True, level - 1.0, 0.0)
    return Decision(False, level, (1.0 - level) / refill_per_s)
