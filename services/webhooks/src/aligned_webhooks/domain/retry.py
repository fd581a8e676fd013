"""When to try a failed delivery again: the schedule, its jitter, and the receiver's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def next_delay_s(
    tries_made: int,
    schedule_s: Sequence[float],
    *,
    scale: float = 1.0,
    jitter: float = 0.0,
    retry_after_s: float | None = None,
    max_retry_after_s: float = 24 * 3600,
    draw: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next try after `tries_made` tries failed; None once exhausted.

    `schedule_s[0]` is the first try (immediate); `schedule_s[n]` the wait after the n-th failure.
    Jitter spreads retries of many deliveries that failed together (an endpoint's outage) so they
    do not all return in the same second. A Retry-After longer than the schedule wins: the receiver
    said when it can take more.
    """
    if tries_made >= len(schedule_s):
        return None
    delay = schedule_s[tries_made] * scale
    if jitter:
        delay *= (draw or random).uniform(1 - jitter, 1 + jitter)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, max_retry_after_s))
    return max(0.0, delay)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3); garbage is ignored."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
