"""Retry timing: exponential backoff with full jitter, and the idempotency key."""

from __future__ import annotations

import hashlib
import random
import uuid
from enum import Enum

from aligned_publishing.domain.status import TargetStatus


def idempotency_key(job_id: uuid.UUID, target_id: uuid.UUID) -> str:
    """Stable for a job and target across every retry and re-check: connections dedupes on it."""
    return hashlib.sha256(f"{job_id}:{target_id}".encode()).hexdigest()[:32]


def backoff_ceiling(failed_attempt: int, base_s: float, cap_s: float) -> float:
    """The longest wait after the n-th failed attempt: base * 2^(n-1), capped."""
    ceiling: float = min(cap_s, base_s * 2 ** (failed_attempt - 1))
    return ceiling


def retry_delay(
    failed_attempt: int,
    *,
    base_s: float,
    cap_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Full jitter (uniform 0..ceiling) so many failed targets do not retry in step;
    a platform's Retry-After is a floor we never undercut."""
    delay = (rng or random).uniform(0, backoff_ceiling(failed_attempt, base_s, cap_s))
    return max(delay, retry_after_s or 0.0)


# Failures that are about the account, not the post: wait for the connection to be fixed.
CONNECTION_FAILURES = frozenset({"connection_expired", "connection_revoked", "auth_failure"})


class Failure(Enum):
    """What a post_failed answer means for its target."""

    STALE = "stale"  # not the attempt in flight: a late answer to an older one is history
    HOLD = "hold"  # the account needs fixing: hold the connection's targets
    RETRY = "retry"  # retryable and attempts left: schedule another
    FAIL = "fail"  # not retryable, or out of attempts


def decide_failure(
    *,
    target_status: str,
    target_attempts: int,
    answered_attempt: int,
    reason: str,
    retryable: bool,
    max_retries: int,
) -> Failure:
    if target_status != TargetStatus.PUBLISHING or target_attempts != answered_attempt:
        return Failure.STALE
    if reason in CONNECTION_FAILURES:
        return Failure.HOLD
    # max_retries counts retries after the first attempt: attempt n is followed by another while n <= max.
    if retryable and target_attempts <= max_retries:
        return Failure.RETRY
    return Failure.FAIL
