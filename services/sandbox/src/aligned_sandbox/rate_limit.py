"""A token bucket per account: bursts up to the capacity, then the refill rate."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_s: int  # whole seconds, as Retry-After carries; 0 when allowed


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, capacity: int, refill_per_s: float, now: float) -> RateDecision:
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(tokens=capacity, updated_at=now))
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * refill_per_s)
            bucket.updated_at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return RateDecision(True, int(bucket.tokens), 0)
            wait_s = (1 - bucket.tokens) / refill_per_s
            return RateDecision(False, 0, max(1, math.ceil(wait_s)))
