import random
import uuid

import pytest

from aligned_publishing.domain.retry import (
    Failure,
    backoff_ceiling,
    decide_failure,
    idempotency_key,
    retry_delay,
)
from aligned_publishing.domain.status import JobStatus, job_outcome

pytestmark = pytest.mark.unit


def test_backoff_doubles_per_failed_attempt_up_to_the_cap():
    assert [backoff_ceiling(n, 30, 3600) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_ceiling(20, 30, 3600) == 3600


def test_full_jitter_spreads_delays_over_the_whole_window():
    rng = random.Random(7)
    delays = [retry_delay(3, base_s=10, cap_s=1000, rng=rng) for _ in range(2000)]
    assert 0 <= min(delays) < 4 and 36 < max(delays) <= 40


def test_a_platforms_retry_after_is_never_undercut():
    assert retry_delay(1, base_s=1, cap_s=2, retry_after_s=90, rng=random.Random(1)) == 90


def test_idempotency_key_is_stable_per_job_and_target_and_differs_between_targets():
    job, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert idempotency_key(job, a) == idempotency_key(job, a)
    assert idempotency_key(job, a) != idempotency_key(job, b)


@pytest.mark.parametrize(
    ("targets", "outcome"),
    [
        (["published", "published"], JobStatus.PUBLISHED),
        (["published", "failed"], JobStatus.PARTIALLY_PUBLISHED),
        (["missed", "failed"], JobStatus.FAILED),
        (["published", "publishing"], None),
        (["published", "held"], None),
        (["cancelled"], JobStatus.CANCELLED),
    ],
)
def test_a_job_finishes_only_when_every_target_has(targets, outcome):
    assert job_outcome(targets) == outcome


@pytest.mark.parametrize(
    ("status", "attempts", "answered", "reason", "retryable", "max_retries", "expected"),
    [
        ("publishing", 1, 1, "rate_limited", True, 3, Failure.RETRY),
        ("publishing", 4, 4, "rate_limited", True, 3, Failure.FAIL),  # out of retries
        ("publishing", 1, 1, "rejected", False, 3, Failure.FAIL),  # not retryable: at once
        ("publishing", 1, 1, "connection_expired", True, 3, Failure.HOLD),  # the account, not the post
        ("publishing", 2, 1, "rate_limited", True, 3, Failure.STALE),  # answers an older attempt
        ("scheduled", 1, 1, "rate_limited", True, 3, Failure.STALE),  # not in flight
    ],
)
def test_what_a_failed_post_means_for_its_target(
    status, attempts, answered, reason, retryable, max_retries, expected
):
    decided = decide_failure(
        target_status=status,
        target_attempts=attempts,
        answered_attempt=answered,
        reason=reason,
        retryable=retryable,
        max_retries=max_retries,
    )
    assert decided is expected
