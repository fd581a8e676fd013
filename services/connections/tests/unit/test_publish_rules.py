"""The rules that keep a publish single: what a request may do given the record of its key,
token-bucket pacing, refresh backoff and which connections may post."""

from datetime import UTC, datetime, timedelta

import pytest

from aligned_connections.domain.attempts import (
    AttemptRecord,
    AttemptStatus,
    Next,
    next_step,
    status_when_nothing_sent,
)
from aligned_connections.domain.connection import Status, publish_refusal, refresh_backoff_s
from aligned_connections.domain.rate_limit import Bucket, take

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(status: AttemptStatus, lease: float | None = None) -> AttemptRecord:
    return AttemptRecord("k", status, lease, None, None, None, 0)


@pytest.mark.parametrize(
    "status,lease,expected",
    [
        (AttemptStatus.PENDING, None, Next.SEND),
        (AttemptStatus.FAILED, None, Next.SEND),
        (AttemptStatus.PUBLISHED, None, Next.ANSWER_PUBLISHED),
        (AttemptStatus.REJECTED, None, Next.ANSWER_REJECTED),
        (AttemptStatus.UNKNOWN, None, Next.RECONCILE),
        (AttemptStatus.IN_FLIGHT, 30.0, Next.BUSY),
        (AttemptStatus.IN_FLIGHT, -1.0, Next.RECONCILE),  # its worker died mid-call
        (AttemptStatus.IN_FLIGHT, None, Next.RECONCILE),
    ],
)
def test_what_a_request_may_do_given_the_record_of_its_key(status, lease, expected):
    assert next_step(record(status, lease)) is expected


def test_a_handling_that_sent_nothing_keeps_an_open_question_open():
    assert status_when_nothing_sent(Next.RECONCILE) is AttemptStatus.UNKNOWN
    assert status_when_nothing_sent(Next.SEND) is AttemptStatus.FAILED


def test_a_full_bucket_allows_a_burst_then_paces():
    bucket = Bucket(tokens=2.0, updated_at=NOW, blocked_until=None)
    first = take(bucket, NOW, capacity=2, refill_per_s=0.5)
    second = take(Bucket(first.tokens, NOW, None), NOW, capacity=2, refill_per_s=0.5)
    third = take(Bucket(second.tokens, NOW, None), NOW, capacity=2, refill_per_s=0.5)
    assert first.allowed and second.allowed and not third.allowed
    assert third.wait_s == pytest.approx(2.0)
    later = take(Bucket(second.tokens, NOW, None), NOW + timedelta(seconds=2), capacity=2, refill_per_s=0.5)
    assert later.allowed


def test_the_bucket_never_holds_more_than_its_capacity():
    idle = take(Bucket(0.0, NOW - timedelta(hours=1), None), NOW, capacity=5, refill_per_s=1)
    assert idle.allowed and idle.tokens == pytest.approx(4.0)


def test_the_platforms_retry_after_wins_over_tokens():
    blocked = take(Bucket(10.0, NOW, NOW + timedelta(seconds=7)), NOW, capacity=10, refill_per_s=1)
    assert not blocked.allowed and blocked.wait_s == pytest.approx(7.0)


def test_refresh_backoff_doubles_up_to_a_ceiling():
    assert [refresh_backoff_s(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]


@pytest.mark.parametrize(
    "status,reason",
    [
        (Status.CONNECTED, None),
        (Status.EXPIRED, "connection_expired"),
        (Status.ERROR, "connection_expired"),
        (Status.REVOKED, "connection_revoked"),
        (Status.DISCONNECTED, "connection_revoked"),
    ],
)
def test_which_connections_may_post(status, reason):
    assert publish_refusal(status) == reason
