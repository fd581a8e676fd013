"""Answers from connections: retries on schedule and capped, immediate failure, redelivery."""

from datetime import datetime, timedelta

import pytest
from aligned_common.events.connections import PostFailed, PostPublished
from aligned_common.testing.kafka_reader import TopicReader
from aligned_publishing.domain.retry import backoff_ceiling
from aligned_publishing.testing import events_of, job_body

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def _publish_now(client, brand, **overrides) -> dict:
    job = (await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, **overrides))).json()
    response = await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
    assert response.status_code == 200, response.text
    return job


def _failed(attempt_event, **overrides) -> PostFailed:
    data = attempt_event["data"]
    values = dict(
        job_id=data["job_id"],
        target_id=data["target_id"],
        connection_id=data["connection_id"],
        platform=data["platform"],
        idempotency_key=data["idempotency_key"],
        attempt=data["attempt"],
        retryable=True,
        reason="retryable",
        platform_message="503 upstream busy",
    )
    values.update(overrides)
    return PostFailed(**values)


def _published(attempt_event) -> PostPublished:
    data = attempt_event["data"]
    return PostPublished(
        job_id=data["job_id"],
        target_id=data["target_id"],
        connection_id=data["connection_id"],
        platform=data["platform"],
        idempotency_key=data["idempotency_key"],
        attempt=data["attempt"],
        remote_id="remote-1",
        url="https://sandbox.example/p/remote-1",
    )


async def test_retryable_failures_retry_with_backoff_then_fail_after_max_retries(svc, brand, infra):
    settings = svc.ctx.deps["publishing"].settings
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand, max_retries=2)
        for attempt in (1, 2, 3):
            records = await topic.read_until(
                lambda rs, n=attempt: len(events_of(rs, brand, "publishing.attempt_requested")) >= n, settle_s=0
            )
            await brand.send(_failed(events_of(records, brand, "publishing.attempt_requested")[-1]))
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.job_failed"), settle_s=1.0)
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()

    requested = events_of(records, brand, "publishing.attempt_requested")
    assert [e["data"]["attempt"] for e in requested] == [1, 2, 3], "max_retries=2 means three attempts, no fourth"
    assert len({e["data"]["idempotency_key"] for e in requested}) == 1
    (failed,) = events_of(records, brand, "publishing.job_failed")
    assert "gave up after 3 attempts" in failed["data"]["reason"] and "503 upstream busy" in failed["data"]["reason"]
    assert detail["status"] == "failed" and detail["retry_count"] == 2
    log = sorted(detail["attempts"], key=lambda a: a["attempt"])
    assert [a["outcome"] for a in log] == ["retry_scheduled", "retry_scheduled", "failed"]
    for earlier, later in zip(log, log[1:], strict=False):
        waited = datetime.fromisoformat(earlier["retry_at"]) - datetime.fromisoformat(earlier["finished_at"])
        ceiling = backoff_ceiling(earlier["attempt"], settings.retry_base_s, settings.retry_cap_s)
        assert 0 <= waited.total_seconds() <= ceiling + 1e-6, "full jitter stays under the exponential ceiling"
        assert datetime.fromisoformat(later["started_at"]) >= datetime.fromisoformat(earlier["retry_at"])


async def test_a_rejected_post_fails_at_once_with_the_platforms_message(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand, max_retries=5)
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0)
        attempt = events_of(records, brand, "publishing.attempt_requested")[0]
        await brand.send(_failed(attempt, retryable=False, reason="rejected", platform_message="duplicate status"))
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.job_failed"), settle_s=1.0)
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    assert len(events_of(records, brand, "publishing.attempt_requested")) == 1
    assert detail["targets"][0]["platform_message"] == "duplicate status"
    assert "duplicate status" in events_of(records, brand, "publishing.job_failed")[0]["data"]["reason"]


async def test_a_redelivered_or_repeated_published_event_changes_nothing(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand)
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0)
        attempt = events_of(records, brand, "publishing.attempt_requested")[0]
        first = await brand.send(_published(attempt))
        await brand.send(envelope=first)  # the broker redelivers the same event
        await brand.send(_published(attempt))  # connections reports the same outcome again
        await brand.send(_failed(attempt))  # and a stray late failure for the same attempt
        records = await topic.read_until(lambda rs: events_of(rs, brand, "publishing.job_published"), settle_s=2.0)
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    assert len(events_of(records, brand, "publishing.job_published")) == 1
    assert len(events_of(records, brand, "publishing.attempt_requested")) == 1
    assert detail["status"] == "published" and detail["retry_count"] == 0
    assert detail["targets"][0]["url"] == "https://sandbox.example/p/remote-1"
    assert [a["outcome"] for a in detail["attempts"]] == ["published"]


async def test_a_target_without_an_answer_is_rechecked_with_the_same_key_and_says_why(svc, brand, infra):
    timeout = timedelta(seconds=svc.ctx.deps["publishing"].settings.publishing_timeout_s)
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand)
        await topic.read_until(lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0)
        svc.clock.advance(timeout + timedelta(seconds=1))  # connections never answered
        records = await topic.read_until(
            lambda rs: len(events_of(rs, brand, "publishing.attempt_requested")) >= 2, settle_s=0.5
        )
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    first, again = (e["data"] for e in events_of(records, brand, "publishing.attempt_requested"))
    assert (again["attempt"], again["recheck"]) == (1, 1), "a re-check, not a new attempt"
    assert again["idempotency_key"] == first["idempotency_key"]
    assert "no answer from connections" in detail["status_reason"]
