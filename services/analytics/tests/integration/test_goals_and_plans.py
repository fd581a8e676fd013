"""Goals fire goal_reached exactly once per period; advisor feedback moves suggestions; plans are accepted once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from aligned_common.identity import Identity
from aligned_testing.kafka_reader import TopicReader

from .helpers import ANALYTICS_TOPIC, connect, events_of, fetched, publish_post

pytestmark = pytest.mark.integration


async def test_goal_reached_fires_once_per_period(analytics, brand):
    connection_id = await connect(analytics, brand)
    async with analytics.client(brand) as client:
        goal = (
            await client.post(
                "/v1/analytics/goals", json={"metric": "likes", "target": 50, "period": "month"}
            )
        ).json()
    start = datetime.now(UTC) - timedelta(seconds=10)
    async with TopicReader(analytics.bootstrap, ANALYTICS_TOPIC) as reader:
        for step, likes in enumerate((30, 60, 90, 120)):  # crosses 50 on the second batch
            await fetched(
                analytics,
                brand,
                connection_id,
                "sandbox",
                [("post-g", "likes", likes, start + timedelta(seconds=step))],
            )
        await fetched(
            analytics,
            brand,
            connection_id,
            "sandbox",
            [("post-g", "likes", 60, start + timedelta(seconds=1))],
        )  # a re-sync
        records = await reader.read_until(
            lambda rs: events_of(rs, brand, "analytics.goal_reached"), 60, settle_s=1.5
        )
    reached = events_of(records, brand, "analytics.goal_reached")
    assert len(reached) == 1
    assert reached[0].data["goal_id"] == goal["goal_id"]
    assert (reached[0].data["target"], reached[0].data["value"]) == (50, 60)
    async with analytics.client(brand) as client:
        progress = (await client.get(f"/v1/analytics/goals/{goal['goal_id']}")).json()["current_period"]
    assert (progress["value"], progress["progress"], progress["reached"]) == (120, 1.0, True)


async def test_goals_of_another_brand_are_not_found(analytics, brand):
    async with analytics.client(brand) as client:
        goal = (
            await client.post(
                "/v1/analytics/goals", json={"metric": "engagement", "target": 5, "period": "week"}
            )
        ).json()
        assert goal["current_period"]["value"] == 0
    stranger = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="x", role="owner")
    async with analytics.client(stranger) as client:
        assert (await client.get(f"/v1/analytics/goals/{goal['goal_id']}")).status_code == 404
        assert (await client.delete(f"/v1/analytics/goals/{goal['goal_id']}")).status_code == 404


async def test_feedback_reorders_suggestions_and_an_accepted_plan_is_announced_once(analytics, brand):
    connection_id = await connect(analytics, brand)
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    monday_10 = today - timedelta(days=today.weekday() + 7) + timedelta(hours=10 - today.hour)
    tuesday_15 = monday_10 + timedelta(days=1, hours=5)
    for remote_id, published in (("early", monday_10), ("late", tuesday_15)):
        await publish_post(analytics, brand, connection_id, "sandbox", remote_id, published)
        await fetched(
            analytics,
            brand,
            connection_id,
            "sandbox",
            [(remote_id, "likes", 10, published + timedelta(hours=2))],
        )

    async with analytics.client(brand) as client:
        before = (await client.get("/v1/analytics/advisor/suggestions", params={"limit": 2})).json()["items"]
        rated = (
            await client.post("/v1/analytics/advisor/feedback", json={"hour_of_week": 24 + 15, "rating": 5})
        ).json()
        after = (await client.get("/v1/analytics/advisor/suggestions", params={"limit": 2})).json()["items"]
        assert [h["hour_of_week"] for h in before] == [10, 39]  # equal engagement: earlier hour first
        assert rated["weight"] > rated["previous_weight"] == 1.0
        assert [h["hour_of_week"] for h in after] == [39, 10]

        plan = (await client.post("/v1/analytics/plans", json={"days": 7, "posts_per_day": 1})).json()
        assert len(plan["slots"]) == 7 and plan["status"] == "proposed"
        hours_by_weekday = {
            datetime.fromisoformat(s["at"]).weekday(): datetime.fromisoformat(s["at"]).hour
            for s in plan["slots"]
        }
        assert hours_by_weekday[0] == 10 and hours_by_weekday[1] == 15  # best hours of those weekdays
        assert hours_by_weekday[3] == 12  # no history on Thursdays: a default hour

        async with TopicReader(analytics.bootstrap, ANALYTICS_TOPIC) as reader:
            accepted = await client.post(f"/v1/analytics/plans/{plan['plan_id']}/accept")
            again = await client.post(f"/v1/analytics/plans/{plan['plan_id']}/accept")
            records = await reader.read_until(
                lambda rs: events_of(rs, brand, "analytics.plan_accepted"), 60, 1.0
            )
        stored = (await client.get(f"/v1/analytics/plans/{plan['plan_id']}")).json()
        listed = (await client.get("/v1/analytics/plans")).json()["items"]
    assert accepted.status_code == 200 and again.status_code == 409
    [event] = events_of(records, brand, "analytics.plan_accepted")
    assert event.data["plan_id"] == plan["plan_id"] and len(event.data["slots"]) == 7
    assert stored["status"] == "accepted" and stored["accepted_by"] == brand.user_id
    assert [p["plan_id"] for p in listed] == [plan["plan_id"]]
    stranger = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="x", role="owner")
    async with analytics.client(stranger) as client:
        assert (await client.get(f"/v1/analytics/plans/{plan['plan_id']}")).status_code == 404


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter"])
async def test_every_period_of_a_goal_works(analytics, brand, period):
    async with analytics.client(brand) as client:
        created = await client.post(
            "/v1/analytics/goals", json={"metric": "likes", "target": 5, "period": period}
        )
        assert created.status_code == 201, created.text
        current = created.json()["current_period"]
        listed = await client.get("/v1/analytics/goals")
    assert listed.status_code == 200
    start, end = date.fromisoformat(current["start"]), date.fromisoformat(current["end"])
    assert start <= datetime.now(UTC).date() <= end
    if period == "quarter":
        assert (
            start.month in (1, 4, 7, 10)
            and start.day == 1
            and (end + timedelta(days=1)).month == (start.month + 2) % 12 + 1
        )


async def test_numbers_have_bounds_and_connections_must_be_the_brands(analytics, brand):
    mine = await connect(analytics, brand)
    stranger = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="x", role="owner")
    theirs = await connect(analytics, stranger)
    async with analytics.client(brand) as client:
        huge = await client.post("/v1/analytics/goals", json={"metric": "likes", "target": 1e300})
        assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "target"
        for connection_id in (theirs, uuid.uuid4()):  # another brand's account answers like none at all
            goal = await client.post(
                "/v1/analytics/goals",
                json={"metric": "likes", "target": 5, "connection_id": str(connection_id)},
            )
            assert goal.status_code == 422 and goal.json()["errors"][0]["field"] == "connection_id", goal.text
            sync = await client.post("/v1/analytics/syncs", json={"connection_id": str(connection_id)})
            assert sync.status_code == 422 and sync.json()["errors"][0]["field"] == "connection_id", sync.text
            syncs = await client.get("/v1/analytics/syncs", params={"connection_id": str(connection_id)})
            assert syncs.status_code == 422 and syncs.json()["errors"][0]["field"] == "connection_id"
            plan = await client.post(
                "/v1/analytics/plans", json={"connection_ids": [str(mine), str(connection_id)]}
            )
            assert plan.status_code == 422 and plan.json()["errors"][0]["field"] == "connection_ids.1", (
                plan.text
            )
        assert (await client.get("/v1/analytics/goals")).json()["items"] == []  # nothing was stored
        ok = await client.post(
            "/v1/analytics/goals", json={"metric": "likes", "target": 5, "connection_id": str(mine)}
        )
        assert ok.status_code == 201, ok.text
