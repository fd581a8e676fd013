from datetime import UTC, datetime

import pytest

from aligned_publishing.domain.schedule import ScheduleError, resolve_schedule

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        (datetime(2026, 3, 28, 9, 0), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),  # CET, UTC+1
        (datetime(2026, 3, 29, 9, 0), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),  # clocks went forward: CEST
        (datetime(2026, 10, 25, 9, 0), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),  # clocks went back
    ],
)
def test_local_time_in_a_zone_is_stored_as_the_right_utc_instant(local, expected_utc):
    schedule = resolve_schedule(local, "Europe/Berlin")
    assert schedule.at_utc == expected_utc and schedule.time_zone == "Europe/Berlin"


def test_an_offset_time_is_an_instant_and_keeps_the_zone_for_display():
    schedule = resolve_schedule(datetime.fromisoformat("2026-03-29T09:00:00+02:00"), "Europe/Berlin")
    assert schedule.at_utc == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "zone", "field"),
    [
        (datetime(2026, 3, 29, 2, 30), "Europe/Berlin", "scheduled_at"),  # skipped by the clocks
        (datetime(2026, 3, 29, 9, 0), None, "scheduled_at"),  # no offset, no zone
        (datetime(2026, 3, 29, 9, 0), "Europe/Atlantis", "time_zone"),
    ],
)
def test_ambiguous_or_impossible_times_are_refused_naming_the_field(at, zone, field):
    with pytest.raises(ScheduleError) as refused:
        resolve_schedule(at, zone)
    assert refused.value.field == field
