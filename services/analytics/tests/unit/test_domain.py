"""Rules with no I/O: report ranges, metric names, cursors, advisor weights."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from aligned_analytics.domain.advisor import MAX_WEIGHT, MIN_WEIGHT, adjusted_weight, hour_of_week
from aligned_analytics.domain.metrics import InvalidQuery, metrics_of, require_metric
from aligned_analytics.domain.pagination import TIME_AND_ID, BadCursor, decode_cursor, encode_cursor, text
from aligned_analytics.domain.ranges import date_range, require_bucket

pytestmark = pytest.mark.unit
TODAY = date(2025, 3, 31)


def test_default_range_is_the_last_30_days_including_today():
    chosen = date_range(None, None, max_days=366, today=TODAY)
    assert (chosen.first_day, chosen.last_day, chosen.days) == (date(2025, 3, 2), TODAY, 30)


def test_previous_period_has_the_same_length_and_ends_the_day_before():
    chosen = date_range(date(2025, 3, 1), date(2025, 3, 10), max_days=366, today=TODAY)
    previous = chosen.previous()
    assert (previous.first_day, previous.last_day) == (date(2025, 2, 19), date(2025, 2, 28))


def test_range_bounds_are_utc_midnights_with_an_exclusive_end():
    chosen = date_range(date(2025, 3, 1), date(2025, 3, 1), max_days=366, today=TODAY)
    assert chosen.start == datetime(2025, 3, 1, tzinfo=UTC)
    assert chosen.end == datetime(2025, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(date(2025, 3, 10), date(2025, 3, 1), "from"), (date(2024, 1, 1), date(2025, 3, 1), "to")],
)
def test_backwards_or_too_long_ranges_are_refused_naming_the_field(first, last, field):
    with pytest.raises(InvalidQuery) as refused:
        date_range(first, last, max_days=366, today=TODAY)
    assert refused.value.field == field


def test_unknown_metrics_and_buckets_are_refused():
    with pytest.raises(InvalidQuery):
        require_metric("happiness")
    with pytest.raises(InvalidQuery):
        require_metric("engagement")  # only where rankings allow the pseudo-metric
    assert require_metric("engagement", allow_engagement=True) == "engagement"
    assert metrics_of("engagement") == ["likes", "shares", "comments", "quotes"]
    with pytest.raises(InvalidQuery):
        require_bucket("fortnight")


def test_cursor_round_trips_and_refuses_garbage():
    moment, row_id = datetime(2025, 3, 1, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor([moment.isoformat(), str(row_id)]), *TIME_AND_ID) == [moment, row_id]
    assert decode_cursor(encode_cursor([str(row_id), "post-1"]), uuid.UUID, text) == [row_id, "post-1"]
    garbage = (
        "%%%",
        "a",
        encode_cursor(["only-one"]),
        encode_cursor(["not a time", str(row_id)]),
        encode_cursor(["2025-03-01T00:00:00", str(row_id)]),
        encode_cursor([moment.isoformat(), "nope"]),
        encode_cursor([1, 2]),
        encode_cursor({"a": 1}),
    )
    for cursor in garbage:
        with pytest.raises(BadCursor):
            decode_cursor(cursor, *TIME_AND_ID)


def test_ratings_move_weights_up_or_down_within_bounds():
    assert adjusted_weight(1.0, 3) == 1.0
    assert adjusted_weight(1.0, 5) > 1.0 > adjusted_weight(1.0, 1)
    assert adjusted_weight(MAX_WEIGHT, 5) == MAX_WEIGHT
    assert adjusted_weight(MIN_WEIGHT, 1) == MIN_WEIGHT
    assert hour_of_week(1, 0) == 0 and hour_of_week(7, 23) == 167


def test_a_range_in_a_brands_zone_starts_at_its_midnight():
    chosen = date_range(date(2025, 3, 10), date(2025, 3, 11), max_days=366, zone="Asia/Tokyo")
    assert chosen.start == datetime(2025, 3, 9, 15, tzinfo=UTC) and chosen.end == datetime(
        2025, 3, 11, 15, tzinfo=UTC
    )
    assert chosen.previous().zone == "Asia/Tokyo" and chosen.previous().end == chosen.start
