"""Date ranges of reports: inclusive calendar days in the brand's time zone, and the period before them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aligned_analytics.domain.metrics import InvalidQuery

DEFAULT_DAYS = 30
BUCKETS = ("day", "week")
# Days a report may name: wide enough for any real question, narrow enough that the range
# before it and the midnight after it are still dates (no overflow from year 1 or 9999).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)


@dataclass(frozen=True)
class DateRange:
    first_day: date
    last_day: date  # inclusive
    zone: str = "UTC"  # the brand's: days start at its midnight

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound: midnight after the last day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(), ZoneInfo(self.zone)).astimezone(
            UTC
        )

    def previous(self) -> DateRange:
        """The period of the same length just before this one (for 'change vs previous')."""
        return DateRange(
            self.first_day - timedelta(days=self.days), self.first_day - timedelta(days=1), self.zone
        )


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def date_range(
    first_day: date | None,
    last_day: date | None,
    *,
    max_days: int,
    today: date | None = None,
    zone: str = "UTC",
) -> DateRange:
    """The range a report covers; the last 30 days (today, in the brand's zone, included) when not given."""
    today = today or today_in(zone)
    for field, day in (("from", first_day), ("to", last_day)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise InvalidQuery(field, f"{day} is outside {EARLIEST_DAY}..{LATEST_DAY}")
    last_day = last_day or (today if first_day is None else max(first_day, today))
    first_day = first_day or last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:
        raise InvalidQuery("from", f"from ({first_day}) is after to ({last_day})")
    chosen = DateRange(first_day, last_day, zone)
    if chosen.days > max_days:
        raise InvalidQuery("to", f"range of {chosen.days} days is longer than the maximum of {max_days}")
    return chosen


def require_bucket(bucket: str) -> str:
    if bucket not in BUCKETS:
        raise InvalidQuery("bucket", f"unknown bucket {bucket!r}; known: {', '.join(BUCKETS)}")
    return bucket


def last_days(days: int, today: date | None = None, zone: str = "UTC") -> DateRange:
    today = today or today_in(zone)
    return DateRange(today - timedelta(days=days - 1), today, zone)
