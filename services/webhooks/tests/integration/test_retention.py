"""Inbound webhooks and finished deliveries are purged after their kept days, across every
brand (the worker role, through row-level security), and their attempts go with them."""

import uuid

import pytest

from aligned_common.migrations import migrate
from aligned_common.retention import purge_all
from aligned_webhooks.bootstrap import MIGRATIONS, RETENTION

from .conftest import test_settings as webhooks_settings

pytestmark = pytest.mark.integration


async def test_old_inbound_events_and_finished_deliveries_go_pending_and_recent_stay(
    infra, pg_pool, scratch_schema
):
    await migrate(infra.database_url, scratch_schema, MIGRATIONS)
    s = f'"{scratch_schema}"'
    brands = [uuid.uuid4(), uuid.uuid4()]
    for n, (brand, days) in enumerate([(brands[0], 40), (brands[1], 40), (brands[0], 2)]):
        await pg_pool.execute(
            f"""INSERT INTO {s}.webhook_events (id, provider, provider_event_id, brand_ids, kind, headers,
                       raw_body, signed_at, received_at, status)
                VALUES ($1, 'sandbox', $2, $3, 'post.status_changed', '{{}}', '', now(),
                        now() - make_interval(days => $4), 'emitted')""",
            uuid.uuid4(),
            f"e{n}",
            [brand],
            days,
        )
    endpoint = uuid.uuid4()
    await pg_pool.execute(
        f"""INSERT INTO {s}.webhook_endpoints (id, brand_id, tenant_id, url, secret_sealed, secret_key_id)
            VALUES ($1, $2, $3, 'https://example.com/h', '\\x00', 'k')""",
        endpoint,
        brands[0],
        uuid.uuid4(),
    )
    for name, status, finished_days in (
        ("old_done", "succeeded", 40),
        ("old_pending", "pending", None),
        ("recent", "failed", 1),
    ):
        delivery = uuid.uuid4()
        await pg_pool.execute(
            f"""INSERT INTO {s}.deliveries (id, brand_id, endpoint_id, event_id, event_type, payload, status,
                       created_at, finished_at)
                VALUES ($1, $2, $3, $4, $5, '', $6, now() - interval '41 days',
                        now() - make_interval(days => $7::int))""",
            delivery,
            brands[0],
            endpoint,
            uuid.uuid4(),
            name,
            status,
            finished_days,
        )
        await pg_pool.execute(
            f"""INSERT INTO {s}.webhook_attempts (brand_id, delivery_id, endpoint_id, event_id, attempt_number, requested_at)
                VALUES ($1, $2, $3, $4, 1, now() - interval '41 days')""",
            brands[0],
            delivery,
            endpoint,
            uuid.uuid4(),
        )

    purged = await purge_all(pg_pool, scratch_schema, webhooks_settings(), RETENTION)

    assert purged == {"webhook_events": 2, "deliveries": 1}
    assert await pg_pool.fetchval(f"SELECT count(*) FROM {s}.webhook_events") == 1
    left = await pg_pool.fetch(f"SELECT event_type FROM {s}.deliveries ORDER BY event_type")
    assert [r["event_type"] for r in left] == ["old_pending", "recent"]
    assert await pg_pool.fetchval(f"SELECT count(*) FROM {s}.webhook_attempts") == 2  # cascaded
