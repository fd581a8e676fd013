"""The metrics analytics knows, and what counts as engagement.

Platforms report cumulative counts (a post's likes so far, an account's followers); the
store turns them into growth per snapshot, so every report is growth within a range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aligned_common import errors

POST_METRICS: tuple[str, ...] = ("impressions", "likes", "shares", "comments", "quotes")
ACCOUNT_METRICS: tuple[str, ...] = ("followers", "following", "posts")
KNOWN_METRICS: tuple[str, ...] = POST_METRICS + ACCOUNT_METRICS

# Engagement rate = engagement / impressions over the same range.
ENGAGEMENT_METRICS: tuple[str, ...] = ("likes", "shares", "comments", "quotes")
REACH_METRIC = "impressions"

# A pseudo-metric the rankings accept: the sum of ENGAGEMENT_METRICS.
ENGAGEMENT = "engagement"


class InvalidQuery(errors.Invalid, ValueError):
    """A read asked for something that cannot be answered; `field` names the culprit (422)."""

    title = "Invalid request"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors=[{"field": field, "message": message}])
        self.field = field
        self.message = message


def require_metric(name: str, *, field: str = "metric", allow_engagement: bool = False) -> str:
    allowed = KNOWN_METRICS + ((ENGAGEMENT,) if allow_engagement else ())
    if name not in allowed:
        raise InvalidQuery(field, f"unknown metric {name!r}; known: {', '.join(allowed)}")
    return name


def metrics_of(name: str) -> list[str]:
    """The stored metrics a (pseudo-)metric adds up."""
    return list(ENGAGEMENT_METRICS) if name == ENGAGEMENT else [name]


@dataclass(frozen=True)
class Snapshot:
    remote_id: str  # '' for account-level metrics
    metric: str
    value: float
    observed_at: datetime
