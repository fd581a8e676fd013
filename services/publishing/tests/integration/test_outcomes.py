"""Answers from connections: retries on schedule and capped, immediate failure, redelivery."""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from aligned_common.db import UnitOfWork, create_pool
from aligned_common.events.connections import PostFailed, PostPublished
from aligned_publishing.adapters import jobs_repo
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.domain.retry import backoff_ceiling
from aligned_publishing.service_layer import outcomes
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.publishing import events_of, job_body, seed_due_jobs

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def _publish_now(client, brand, **overrides) -> dict:
    job = (
        await client.post("/v1/jobs", headers=brand.headers, json=job_body(brand.sandbox, **overrides))
    ).json()
    response = await client.post(f"/v1/jobs/{job['job_id']}/publish-now", headers=brand.headers)
    assert response.status_code == 200, response.text
    return job


def _failed(attempt_event, **overrides) -> PostFailed:
    data = attempt_event["data"]
    values = {
        "job_id": data["job_id"],
        "target_id": data["target_id"],
        "connection_id": data["connection_id"],
        "platform": data["platform"],
        "idempotency_key": data["idempotency_key"],
        "attempt": data["attempt"],
        "retryable": True,
        "reason": "retryable",
        "platform_message": "503 upstream busy",
    }
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
    settings = svc.ctx.deps.settings
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand, max_retries=2)
        for attempt in (1, 2, 3):
            records = await topic.read_until(
                lambda rs, n=attempt: len(events_of(rs, brand, "publishing.attempt_requested")) >= n,
                settle_s=0,
            )
            await brand.send(_failed(events_of(records, brand, "publishing.attempt_requested")[-1]))
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_failed"), settle_s=1.0
        )
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()

    requested = events_of(records, brand, "publishing.attempt_requested")
    assert [e["data"]["attempt"] for e in requested] == [1, 2, 3], (
        "max_retries=2 means three attempts, no fourth"
    )
    assert len({e["data"]["idempotency_key"] for e in requested}) == 1
    (failed,) = events_of(records, brand, "publishing.job_failed")
    assert (
        "gave up after 3 attempts" in failed["data"]["reason"]
        and "503 upstream busy" in failed["data"]["reason"]
    )
    assert detail["status"] == "failed" and detail["retry_count"] == 2
    log = sorted(detail["attempts"], key=lambda a: a["attempt"])
    assert [a["outcome"] for a in log] == ["retry_scheduled", "retry_scheduled", "failed"]
    for earlier, later in itertools.pairwise(log):
        waited = datetime.fromisoformat(earlier["retry_at"]) - datetime.fromisoformat(earlier["finished_at"])
        ceiling = backoff_ceiling(earlier["attempt"], settings.retry_base_s, settings.retry_cap_s)
        assert 0 <= waited.total_seconds() <= ceiling + 1e-6, (
            "full jitter stays under the exponential ceiling"
        )
        assert datetime.fromisoformat(later["started_at"]) >= datetime.fromisoformat(earlier["retry_at"])


async def test_a_rejected_post_fails_at_once_with_the_platforms_message(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand, max_retries=5)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        attempt = events_of(records, brand, "publishing.attempt_requested")[0]
        await brand.send(
            _failed(attempt, retryable=False, reason="rejected", platform_message="duplicate status")
        )
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_failed"), settle_s=1.0
        )
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    assert len(events_of(records, brand, "publishing.attempt_requested")) == 1
    assert detail["targets"][0]["platform_message"] == "duplicate status"
    assert "duplicate status" in events_of(records, brand, "publishing.job_failed")[0]["data"]["reason"]


async def test_a_redelivered_or_repeated_published_event_changes_nothing(svc, brand, infra):
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        attempt = events_of(records, brand, "publishing.attempt_requested")[0]
        first = await brand.send(_published(attempt))
        await brand.send(envelope=first)  # the broker redelivers the same event
        await brand.send(_published(attempt))  # connections reports the same outcome again
        await brand.send(_failed(attempt))  # and a stray late failure for the same attempt
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_published"), settle_s=2.0
        )
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    assert len(events_of(records, brand, "publishing.job_published")) == 1
    assert len(events_of(records, brand, "publishing.attempt_requested")) == 1
    assert detail["status"] == "published" and detail["retry_count"] == 0
    assert detail["targets"][0]["url"] == "https://sandbox.example/p/remote-1"
    assert [a["outcome"] for a in detail["attempts"]] == ["published"]


async def test_a_target_without_an_answer_is_rechecked_with_the_same_key_and_says_why(svc, brand, infra):
    timeout = timedelta(seconds=svc.ctx.deps.settings.publishing_timeout_s)
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


async def test_an_outcome_that_finishes_its_job_takes_four_round_trips(svc, brand, infra):
    """BEGIN with the inbox row, the locks, every write in one statement, COMMIT: round trips
    are most of a post's cost (docs/performance.md; it was ten, and the pool's reset a fifth).
    Each is one logged query."""
    async with svc.client() as client, TopicReader(infra.kafka_bootstrap, TOPIC) as topic:
        job = await _publish_now(client, brand)
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.attempt_requested"), settle_s=0
        )
        published = _published(events_of(records, brand, "publishing.attempt_requested")[0])
        envelope = brand.envelope(published)
        queries = []
        pool = await create_pool(
            infra.database_url, min_size=1, max_size=1, init=lambda conn: _log_queries(conn, queries)
        )
        try:
            record = ("on_post_published", envelope.id, envelope.type)
            async with UnitOfWork(pool, svc.ctx.schema, brand_id=brand.brand_id, record_event=record) as uow:
                await outcomes.on_post_published(SqlUnitOfWork.joined(uow), svc.ctx.deps, published)
        finally:
            await pool.close()
        records = await topic.read_until(
            lambda rs: events_of(rs, brand, "publishing.job_published"), settle_s=0
        )
        detail = (await client.get(f"/v1/jobs/{job['job_id']}", headers=brand.headers)).json()
    await asyncio.sleep(0)  # the logger's callbacks are scheduled with call_soon
    # asyncpg looks a type up once per connection (typeinfo_tree, with JIT off around it): not per outcome.
    ours = [q for q in queries if "typeinfo_tree" not in q and "set_config('jit'" not in q]
    assert len(ours) == 4, ours  # the pool's reset goes with COMMIT (aligned_common.db.PooledConnection)
    assert ours[0].startswith("BEGIN") and "COMMIT" in ours[3] and "RESET ALL" in ours[3]
    assert detail["status"] == "published" and [a["outcome"] for a in detail["attempts"]] == ["published"]
    (finished,) = events_of(records, brand, "publishing.job_published")
    assert finished["data"]["targets"][0]["url"] == published.url


async def _log_queries(conn, queries: list) -> None:
    conn.add_query_logger(lambda record: queries.append(record.query))


async def test_outcome_locks_see_a_sibling_target_finished_while_they_waited_for_the_job(svc, infra):
    """Two outcomes of one job: the second waits for the job's lock, and must then see the
    target the first finished (or the job would never finish). One statement takes the locks,
    so its snapshot is older than the other's commit: FOR UPDATE is what makes it see it."""
    (first, second) = await seed_due_jobs(
        svc.ctx.pool,
        svc.ctx.schema,
        [uuid.uuid4()],
        1,
        datetime.now(UTC) + timedelta(days=1),
        targets_per_job=2,
    )
    holder, waiter = await asyncpg.connect(infra.database_url), await asyncpg.connect(infra.database_url)
    try:
        for conn in (holder, waiter):
            await conn.execute(f'SET search_path = "{svc.ctx.schema}"')
        job_id = await holder.fetchval("SELECT job_id FROM publishing_targets WHERE target_id = $1", first)
        holder_tx, waiter_tx = holder.transaction(), waiter.transaction()
        await holder_tx.start()
        await holder.execute("SELECT 1 FROM publishing_jobs WHERE job_id = $1 FOR UPDATE", job_id)
        await waiter_tx.start()
        locking = asyncio.create_task(jobs_repo.lock_job_and_targets(waiter, job_id))
        await asyncio.sleep(0.5)
        assert not locking.done(), "it waits for the job's lock"
        await holder.execute("UPDATE publishing_targets SET status = 'published' WHERE target_id = $1", first)
        await holder_tx.commit()
        job, targets = await asyncio.wait_for(locking, 10)
        await waiter_tx.rollback()
    finally:
        await holder.close()
        await waiter.close()
    assert job["job_id"] == job_id
    assert {t["target_id"]: t["status"] for t in targets} == {first: "published", second: "scheduled"}
