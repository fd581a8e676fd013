"""Published outbox rows are deleted once past the retention; pending and recent ones stay."""

import asyncio
import contextlib
import uuid

import pytest

from aligned_common.app import ServiceContext, purge_outbox
from aligned_common.migrations import migrate
from aligned_common.settings import ServiceSettings
from aligned_testing.polling import eventually

pytestmark = pytest.mark.integration


async def test_the_purge_loop_deletes_only_published_rows_past_the_retention(infra, pg_pool, scratch_schema):
    await migrate(infra.database_url, scratch_schema, None)
    rows = {  # name -> (created, published), as ages in hours; None: not published yet
        "old_published": (30, 29),
        "recent_published": (2, 1),
        "old_pending": (30, None),
    }
    for name, (created_h, published_h) in rows.items():
        await pg_pool.execute(
            f"""INSERT INTO "{scratch_schema}".outbox (event_id, topic, key, event_type, payload, created_at, published_at)
                VALUES ($1, 't', $2, 'test.event', '{{}}', now() - make_interval(hours => $3),
                        now() - make_interval(hours => $4::int))""",
            uuid.uuid4(),
            name,
            created_h,
            published_h,
        )
    ctx = ServiceContext(
        settings=ServiceSettings(outbox_retention_s=24 * 3600), schema=scratch_schema, pool=pg_pool
    )

    async def purged():
        left = [
            r["key"] for r in await pg_pool.fetch(f'SELECT key FROM "{scratch_schema}".outbox ORDER BY key')
        ]
        return left if "old_published" not in left else None

    loop = asyncio.create_task(purge_outbox(ctx))
    try:
        left = await eventually(purged, timeout_s=10, what="the old published row purged")
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert left == ["old_pending", "recent_published"]
