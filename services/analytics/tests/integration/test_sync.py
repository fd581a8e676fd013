"""Metric sync driven by connections' and publishing's events, over the real broker and database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aligned_analytics.service_layer.scheduler import schedule_due_syncs
from aligned_common.events.connections import ConnectionExpired, ConnectionRestored, MetricsFailed
from aligned_testing.kafka_reader import TopicReader
from aligned_testing.polling import eventually

from .helpers import ANALYTICS_TOPIC, connect, events_of, fetched, publish_post

pytestmark = pytest.mark.integration


async def test_a_connected_account_is_synced_and_its_metrics_reported(analytics, brand):
    async with TopicReader(analytics.bootstrap, ANALYTICS_TOPIC) as reader:
        connection_id = await connect(analytics, brand)
        records = await reader.read_until(
            lambda rs: events_of(rs, brand, "analytics.sync_requested"), 60, 0.3
        )
    [requested] = events_of(records, brand, "analytics.sync_requested")
    assert requested.data["connection_id"] == str(connection_id)
    sync_id = uuid.UUID(requested.data["sync_id"])

    observed = datetime.now(UTC) - timedelta(hours=1)
    await fetched(
        analytics,
        brand,
        connection_id,
        "sandbox",
        [
            ("post-1", "impressions", 120, observed),
            ("post-1", "likes", 9, observed),
            (None, "followers", 400, observed),
        ],
        sync_id=sync_id,
    )

    async with analytics.client(brand) as client:
        syncs = (await client.get("/v1/analytics/syncs")).json()["items"]
        summary = (await client.get("/v1/analytics/summary")).json()
    [log] = syncs
    assert (log["sync_id"], log["trigger"], log["status"], log["rows"]) == (
        str(sync_id),
        "schedule",
        "succeeded",
        3,
    )
    assert log["started_at"] and log["finished_at"]
    assert summary["totals"]["impressions"]["value"] == 120
    assert summary["totals"]["likes"]["value"] == 9
    assert summary["totals"]["followers"]["value"] == 0  # an account's first snapshot is its baseline
    assert summary["engagement_rate"] == pytest.approx(9 / 120)


async def test_a_resync_never_double_counts(analytics, brand):
    connection_id = await connect(analytics, brand)
    first = datetime.now(UTC) - timedelta(hours=3)
    later = first + timedelta(hours=1)
    same_batch = [("post-9", "likes", 10, first), ("post-9", "impressions", 100, first)]
    await fetched(analytics, brand, connection_id, "sandbox", same_batch)
    await fetched(
        analytics, brand, connection_id, "sandbox", same_batch
    )  # a re-sync of the same observations
    await fetched(
        analytics,
        brand,
        connection_id,
        "sandbox",
        [("post-9", "likes", 14, later), ("post-9", "impressions", 130, later)],
    )
    await fetched(analytics, brand, connection_id, "sandbox", [("post-9", "likes", 14, later)])  # and again

    async with analytics.client(brand) as client:
        totals = (await client.get("/v1/analytics/summary")).json()["totals"]
    # Cumulative counts: growth is the latest count, however many times it was fetched.
    assert totals["likes"]["value"] == 14
    assert totals["impressions"]["value"] == 130
    rows = await analytics.pool.fetchval(
        f'SELECT count(*) FROM "{analytics.schema}".analytics_metrics WHERE brand_id = $1', brand.brand_id
    )
    assert rows == 4


async def test_a_failed_fetch_is_logged_with_its_reason(analytics, brand):
    connection_id = await connect(analytics, brand)
    async with analytics.client(brand) as client:
        response = await client.post("/v1/analytics/syncs", json={"connection_id": str(connection_id)})
        assert response.status_code == 202
        [requested] = response.json()["requested"]
        event = await analytics.publish(
            MetricsFailed(
                sync_id=uuid.UUID(requested["sync_id"]),
                connection_id=connection_id,
                platform="sandbox",
                reason="rate_limited",
                platform_message="slow down",
            ),
            brand.brand_id,
            brand.tenant_id,
        )
        await analytics.processed(event)
        syncs = (
            await client.get("/v1/analytics/syncs", params={"connection_id": str(connection_id)})
        ).json()["items"]
    on_demand = next(s for s in syncs if s["sync_id"] == requested["sync_id"])
    assert (on_demand["trigger"], on_demand["status"], on_demand["error"]) == (
        "on_demand",
        "failed",
        "rate_limited: slow down",
    )


async def test_an_expired_connection_pauses_its_syncs_until_restored(analytics, brand):
    connection_id = await connect(analytics, brand)
    expired = await analytics.publish(
        ConnectionExpired(connection_id=connection_id, platform="sandbox", reason="refresh token rejected"),
        brand.brand_id,
        brand.tenant_id,
    )
    await analytics.processed(expired)
    accounts = f'"{analytics.schema}".accounts'
    await analytics.pool.execute(
        f"UPDATE {accounts} SET next_sync_at = now() - interval '1 hour' WHERE connection_id = $1",
        connection_id,
    )
    syncs_before = await _sync_count(analytics, connection_id)

    await schedule_due_syncs(analytics.uows, analytics.settings)  # what every scheduler tick runs

    assert await _sync_count(analytics, connection_id) == syncs_before
    async with analytics.client(brand) as client:
        refused = await client.post("/v1/analytics/syncs", json={"connection_id": str(connection_id)})
        assert refused.status_code == 409
        assert "refresh token rejected" in refused.json()["detail"]
        [account] = (await client.get("/v1/analytics/accounts")).json()["items"]
        assert account["status"] == "paused"

    async with TopicReader(analytics.bootstrap, ANALYTICS_TOPIC) as reader:
        restored = await analytics.publish(
            ConnectionRestored(connection_id=connection_id, platform="sandbox"),
            brand.brand_id,
            brand.tenant_id,
        )
        await analytics.processed(restored)
        records = await reader.read_until(
            lambda rs: events_of(rs, brand, "analytics.sync_requested"), 60, 0.3
        )
    assert [e.data["connection_id"] for e in events_of(records, brand, "analytics.sync_requested")] == [
        str(connection_id)
    ]


async def test_a_published_post_gets_its_first_sync(analytics, brand):
    connection_id = await connect(analytics, brand)
    # Let the account's own first sync go out first: it would otherwise list the new post too.
    await eventually(
        lambda: analytics.pool.fetchval(
            f'SELECT last_sync_requested_at FROM "{analytics.schema}".accounts WHERE connection_id = $1',
            connection_id,
        ),
        timeout_s=60,
    )
    async with TopicReader(analytics.bootstrap, ANALYTICS_TOPIC) as reader:
        await publish_post(analytics, brand, connection_id, "sandbox", "remote-77", datetime.now(UTC))

        def first_post_sync(records):
            return [e for e in events_of(records, brand, "analytics.sync_requested") if e.data["remote_ids"]]

        records = await reader.read_until(first_post_sync, 60, 0.3)
    [request] = first_post_sync(records)
    assert request.data["remote_ids"] == ["remote-77"]
    assert request.data["connection_id"] == str(connection_id)


async def _sync_count(analytics, connection_id) -> int:
    return await analytics.pool.fetchval(
        f'SELECT count(*) FROM "{analytics.schema}".analytics_sync_logs WHERE connection_id = $1',
        connection_id,
    )
