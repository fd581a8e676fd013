"""How a user's rating of a suggested posting hour moves the weight the advisor gives it."""

from __future__ import annotations

MIN_WEIGHT = 0.2
MAX_WEIGHT = 5.0
NEUTRAL_RATING = 3
STEP = 0.15  # each point above/below neutral scales the weight by 15%

# When a brand has no history yet, plans prefer these UTC hours (common engagement peaks).
DEFAULT_HOURS: tuple[int, ...] = (9, 12, 17)


def adjusted_weight(current: float, rating: int) -> float:
    """Multiplicative so that repeated ratings compound but never flip a weight's sign."""
    factor = 1 + STEP * (rating - NEUTRAL_RATING)
    return min(MAX_WEIGHT, max(MIN_WEIGHT, current * factor))


def hour_of_week(iso_weekday: int, hour: int) -> int:
    """0 = Monday 00:00 UTC ... 167 = Sunday 23:00 UTC."""
    return (iso_weekday - 1) * 24 + hour
