"""When a post should go out: ISO 8601 with an offset, or a local time in an IANA zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ScheduleError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Schedule:
    at_utc: datetime
    time_zone: str | None


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("time_zone", f"unknown IANA time zone {name!r}") from None


def resolve_schedule(at: datetime, time_zone: str | None) -> Schedule:
    """A naive time is wall-clock time in `time_zone`; an aware one is an instant (the zone,
    if given, is kept for display). A wall-clock time the zone skips (the hour clocks jump
    over) is refused rather than silently moved."""
    if at.tzinfo is None:
        if not time_zone:
            raise ScheduleError("scheduled_at", "needs a UTC offset, or a local time with time_zone")
        zone = zone_named(time_zone)
        local = at.replace(tzinfo=zone)
        round_trip = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != at:
            raise ScheduleError(
                "scheduled_at", f"{at.isoformat()} does not exist in {time_zone} (clocks change)"
            )
        return Schedule(local.astimezone(UTC), time_zone)
    if time_zone:
        zone_named(time_zone)
    return Schedule(at.astimezone(UTC), time_zone)
