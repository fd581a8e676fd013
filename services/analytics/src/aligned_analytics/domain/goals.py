"""Goals: reach `target` growth of a metric within each calendar period of the brand's time zone."""

from __future__ import annotations

from aligned_analytics.domain.metrics import InvalidQuery

PERIODS = ("day", "week", "month", "quarter")


def require_period(period: str) -> str:
    if period not in PERIODS:
        raise InvalidQuery("period", f"unknown period {period!r}; known: {', '.join(PERIODS)}")
    return period
