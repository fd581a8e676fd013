"""Two dispatcher replicas on one database: every due target is requested exactly once."""

import contextlib
import uuid
from collections import Counter
from datetime import timedelta

import orjson
import pytest

from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import AttemptRequested
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.publishing import MovableClock, make_settings, publishing_service, seed_due_jobs

pytestmark = pytest.mark.integration
TOPIC = "aligned.publishing.events"


async def test_1000_due_jobs_two_dispatchers_each_target_requested_exactly_once(
    infra, topics, scratch_schema, pg_pool
):
    clock = MovableClock()
    # Small batches so both replicas take turns claiming from the same backlog.
    settings = make_settings(dispatch_batch_size=50, dispatch_interval_s=0.02)
    brands = [uuid.uuid4() for _ in range(10)]
    keys = {str(b).encode() for b in brands}
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(publishing_service(infra, scratch_schema, settings, clock))
        await stack.enter_async_context(publishing_service(infra, scratch_schema, settings, clock))
        reader = await stack.enter_async_context(TopicReader(infra.kafka_bootstrap, TOPIC))
        async with first.ctx.pool.acquire() as conn, conn.transaction():
            # One commit: both replicas see the whole backlog due at the same moment.
            target_ids = await seed_due_jobs(
                conn, scratch_schema, brands, 100, clock.now() - timedelta(seconds=1)
            )

        def attempts(records):
            return [
                orjson.loads(r.value)
                for r in records
                if r.key in keys and orjson.loads(r.value)["type"] == "publishing.attempt_requested"
            ]

        records = await reader.read_until(lambda rs: len(attempts(rs)) >= 1000, timeout_s=120, settle_s=2.0)

    mine = [r for r in records if r.key in keys]
    # The dispatcher builds envelopes in SQL: every one must parse as the shared models.
    parsed = [EventEnvelope.from_bytes(r.value) for r in mine]
    assert all(
        isinstance(e.payload(), AttemptRequested) for e in parsed if e.type == AttemptRequested.event_type()
    )
    requested = Counter(e["data"]["target_id"] for e in attempts(records))
    assert len(requested) == 1000
    assert set(requested) == {str(t) for t in target_ids}
    assert max(requested.values()) == 1, "a target was requested twice"
    attempts = await pg_pool.fetch(
        f'SELECT attempts, status, count(*) AS n FROM "{scratch_schema}".publishing_targets GROUP BY 1, 2'
    )
    assert [(r["attempts"], r["status"], r["n"]) for r in attempts] == [(1, "publishing", 1000)]
    statuses = await pg_pool.fetch(f'SELECT DISTINCT status FROM "{scratch_schema}".publishing_jobs')
    assert [r["status"] for r in statuses] == ["publishing"]
