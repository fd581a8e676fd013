"""Retention on a real database: expired rows go in bounded batches, as the worker role; rows
still kept, and rows a rule does not cover (pending outbox rows), stay; the metric counts them."""

import uuid

import pytest

from aligned_common import retention
from aligned_common.metrics import RETENTION_PURGED
from aligned_common.migrations import migrate
from aligned_common.retention import COMMON_RULES, purge_all
from aligned_common.settings import ServiceSettings

pytestmark = pytest.mark.integration

DAY_S = 86_400


async def test_expired_dedupe_and_outbox_rows_go_in_batches_and_the_rest_stay(
    infra, pg_pool, scratch_schema, monkeypatch
):
    await migrate(infra.database_url, scratch_schema, None)
    monkeypatch.setattr(retention, "PURGE_BATCH", 7)  # 30 old rows: five batches
    for age_days in [20] * 30 + [1] * 5:
        await pg_pool.execute(
            f"""INSERT INTO "{scratch_schema}".processed_events (handler, event_id, event_type, processed_at)
                VALUES ('h', $1, 't', now() - make_interval(days => $2))""",
            uuid.uuid4(),
            age_days,
        )
    for key, published_days in (("old_published", 3), ("recent_published", 0), ("old_pending", None)):
        await pg_pool.execute(
            f"""INSERT INTO "{scratch_schema}".outbox (event_id, topic, key, event_type, payload, created_at, published_at)
                VALUES ($1, 't', $2, 'test.event', '{{}}', now() - interval '3 days',
                        now() - make_interval(days => $3::int))""",
            uuid.uuid4(),
            key,
            published_days,
        )
    before = RETENTION_PURGED.labels(scratch_schema, "processed_events")._value.get()
    settings = ServiceSettings(outbox_retention_s=DAY_S, processed_events_retention_s=14 * DAY_S)

    purged = await purge_all(pg_pool, scratch_schema, settings, COMMON_RULES)

    assert purged == {"processed_events": 30, "outbox": 1}
    assert await pg_pool.fetchval(f'SELECT count(*) FROM "{scratch_schema}".processed_events') == 5
    left = await pg_pool.fetch(f'SELECT key FROM "{scratch_schema}".outbox ORDER BY key')
    assert [r["key"] for r in left] == ["old_pending", "recent_published"]
    assert RETENTION_PURGED.labels(scratch_schema, "processed_events")._value.get() - before == 30
    assert await purge_all(pg_pool, scratch_schema, settings, COMMON_RULES) == {}  # nothing twice
