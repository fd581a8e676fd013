import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from aligned_webhooks.config import DEFAULT_RETRY_SCHEDULE_S
from aligned_webhooks.domain.retry import next_delay_s, parse_retry_after

pytestmark = pytest.mark.unit


def test_the_schedule_is_followed_then_exhausted():
    waits = [next_delay_s(n, DEFAULT_RETRY_SCHEDULE_S) for n in range(1, 9)]
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000, None]


def test_scale_and_jitter_stay_within_bounds():
    draw = random.Random(7)
    waits = [next_delay_s(2, DEFAULT_RETRY_SCHEDULE_S, scale=0.01, jitter=0.2, draw=draw) for _ in range(200)]
    assert all(2.4 <= w <= 3.6 for w in waits)
    assert len(set(waits)) > 100  # actually spread


def test_a_longer_retry_after_wins_and_is_capped():
    assert next_delay_s(1, DEFAULT_RETRY_SCHEDULE_S, retry_after_s=60) == 60
    assert next_delay_s(2, DEFAULT_RETRY_SCHEDULE_S, retry_after_s=60) == 300  # the schedule is longer
    assert next_delay_s(1, DEFAULT_RETRY_SCHEDULE_S, retry_after_s=10**9, max_retry_after_s=3600) == 3600


def test_retry_after_as_seconds_or_date():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
