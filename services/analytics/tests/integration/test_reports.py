"""Reports against a small hand-computed fixture, and the 422s of bad questions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from aligned_common.identity import Identity

from .helpers import READ_POOL_NAME, connect, fetched, publish_post

pytestmark = pytest.mark.integration


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


@pytest.fixture
async def fixture_brand(analytics, brand):
    """Two accounts, two posts, cumulative counts (what platforms report):

    day        post p1 (sandbox)                   post p2 (mastodon)                  account A followers
    D0-5                                                                                1000 (baseline)
    D0-3 10h   published
    D0-3 12h   impressions 100, likes 10
    D0+1 12h   impressions 300, likes 25, comments 5
    D0+2 08h                                       published
    D0+2 09h                                       impressions 200, likes 20, shares 10
    D0+3 12h   impressions 400, likes 30, comments 5
    D0+4 12h                                                                            1030

    Range D0..D0+6, previous range D0-7..D0-1. Growth in range:
      impressions (300-100) + (400-300) + 200 = 500   previous 100  -> +400 %
      likes       (25-10) + (30-25) + 20    = 40      previous 10   -> +300 %
      comments 5, shares 10, followers 30
      engagement 40 + 10 + 5 = 55 -> rate 55 / 500 = 0.11; previous 10 / 100 = 0.1
    """
    d0 = datetime.now(UTC).date() - timedelta(days=20)
    a = await connect(analytics, brand, "sandbox")
    b = await connect(analytics, brand, "mastodon")
    await publish_post(analytics, brand, a, "sandbox", "p1", at(d0 - timedelta(days=3), 10))
    await publish_post(analytics, brand, b, "mastodon", "p2", at(d0 + timedelta(days=2), 8))
    await fetched(
        analytics,
        brand,
        a,
        "sandbox",
        [
            (None, "followers", 1000, at(d0 - timedelta(days=5), 12)),
            ("p1", "impressions", 100, at(d0 - timedelta(days=3), 12)),
            ("p1", "likes", 10, at(d0 - timedelta(days=3), 12)),
            ("p1", "impressions", 300, at(d0 + timedelta(days=1), 12)),
            ("p1", "likes", 25, at(d0 + timedelta(days=1), 12)),
            ("p1", "comments", 5, at(d0 + timedelta(days=1), 12)),
            ("p1", "impressions", 400, at(d0 + timedelta(days=3), 12)),
            ("p1", "likes", 30, at(d0 + timedelta(days=3), 12)),
            ("p1", "comments", 5, at(d0 + timedelta(days=3), 12)),
            (None, "followers", 1030, at(d0 + timedelta(days=4), 12)),
        ],
    )
    await fetched(
        analytics,
        brand,
        b,
        "mastodon",
        [
            ("p2", "impressions", 200, at(d0 + timedelta(days=2), 9)),
            ("p2", "likes", 20, at(d0 + timedelta(days=2), 9)),
            ("p2", "shares", 10, at(d0 + timedelta(days=2), 9)),
        ],
    )
    return {
        "d0": d0,
        "range": {"from": d0.isoformat(), "to": (d0 + timedelta(days=6)).isoformat()},
        "a": a,
        "b": b,
    }


async def test_summary_matches_the_hand_computed_fixture(analytics, brand, fixture_brand):
    async with analytics.client(brand) as client:
        summary = (await client.get("/v1/analytics/summary", params=fixture_brand["range"])).json()
        sandbox_only = (
            await client.get(
                "/v1/analytics/summary", params={**fixture_brand["range"], "platform": "sandbox"}
            )
        ).json()
    totals = summary["totals"]
    assert {
        m: totals[m]["value"] for m in ("impressions", "likes", "comments", "shares", "quotes", "followers")
    } == {"impressions": 500, "likes": 40, "comments": 5, "shares": 10, "quotes": 0, "followers": 30}
    assert (totals["impressions"]["previous"], totals["impressions"]["change_pct"]) == (100, 400.0)
    assert (totals["likes"]["previous"], totals["likes"]["change_pct"]) == (10, 300.0)
    assert totals["shares"]["change_pct"] is None  # nothing to compare with
    assert summary["engagement_rate"] == pytest.approx(0.11)
    assert summary["previous_engagement_rate"] == pytest.approx(0.1)
    assert summary["previous_range"] == {
        "from": (fixture_brand["d0"] - timedelta(days=7)).isoformat(),
        "to": (fixture_brand["d0"] - timedelta(days=1)).isoformat(),
        "time_zone": "UTC",
    }
    assert sandbox_only["totals"]["impressions"]["value"] == 300
    assert sandbox_only["engagement_rate"] == pytest.approx(25 / 300)


async def test_per_platform_and_per_post(analytics, brand, fixture_brand):
    async with analytics.client(brand) as client:
        platforms = (await client.get("/v1/analytics/platforms", params=fixture_brand["range"])).json()[
            "platforms"
        ]
        first = (
            await client.get("/v1/analytics/posts", params={**fixture_brand["range"], "limit": 1})
        ).json()
        second = (
            await client.get(
                "/v1/analytics/posts",
                params={**fixture_brand["range"], "limit": 1, "cursor": first["next_cursor"]},
            )
        ).json()
    by_platform = {p["platform"]: p for p in platforms}
    assert by_platform["sandbox"]["totals"]["impressions"]["value"] == 300
    assert by_platform["sandbox"]["engagement_rate"] == pytest.approx(25 / 300)
    assert by_platform["mastodon"]["totals"]["shares"]["value"] == 10
    assert by_platform["mastodon"]["engagement_rate"] == pytest.approx(30 / 200)
    posts = first["items"] + second["items"]
    assert second["next_cursor"] is None
    assert {p["remote_id"]: (p["metrics"]["impressions"], p["engagement"]) for p in posts} == {
        "p1": (300, 25),
        "p2": (200, 30),
    }
    assert all(p["published_at"] for p in posts)


async def test_top_posts_time_series_and_best_hours(analytics, brand, fixture_brand):
    d0 = fixture_brand["d0"]
    async with analytics.client(brand) as client:
        by_engagement = (
            await client.get(
                "/v1/analytics/top-posts", params={**fixture_brand["range"], "metric": "engagement"}
            )
        ).json()
        by_impressions = (
            await client.get(
                "/v1/analytics/top-posts",
                params={**fixture_brand["range"], "metric": "impressions", "limit": 1},
            )
        ).json()
        daily = (
            await client.get(
                "/v1/analytics/timeseries", params={**fixture_brand["range"], "metric": "impressions"}
            )
        ).json()
        weekly = (
            await client.get(
                "/v1/analytics/timeseries",
                params={**fixture_brand["range"], "metric": "impressions", "bucket": "week"},
            )
        ).json()
        hours = (
            await client.get(
                "/v1/analytics/best-hours",
                params={
                    "from": (d0 - timedelta(days=7)).isoformat(),
                    "to": (d0 + timedelta(days=6)).isoformat(),
                    "limit": 3,
                },
            )
        ).json()
    assert [(p["remote_id"], p["value"]) for p in by_engagement["items"]] == [("p2", 30), ("p1", 25)]
    assert [(p["remote_id"], p["value"]) for p in by_impressions["items"]] == [("p1", 300)]
    assert [p["value"] for p in daily["points"]] == [0, 200, 200, 100, 0, 0, 0]
    assert daily["points"][0]["bucket_start"] == d0.isoformat()
    mondays = sorted(
        {d0 + timedelta(days=i) - timedelta(days=(d0 + timedelta(days=i)).weekday()) for i in range(7)}
    )
    assert [p["bucket_start"] for p in weekly["points"]] == [m.isoformat() for m in mondays]
    assert sum(p["value"] for p in weekly["points"]) == 500
    p1_slot = (d0 - timedelta(days=3)).weekday() * 24 + 10
    p2_slot = (d0 + timedelta(days=2)).weekday() * 24 + 8
    best = hours["items"]
    # p1: likes 30 + comments 5 = 35 since published; p2: likes 20 + shares 10 = 30.
    assert [(h["hour_of_week"], h["posts"], h["avg_engagement"]) for h in best[:2]] == [
        (p1_slot, 1, 35),
        (p2_slot, 1, 30),
    ]
    assert best[2]["posts"] == 0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/analytics/summary", {"from": "2025-03-10", "to": "2025-03-01"}, "from"),
        ("/v1/analytics/summary", {"from": "2023-01-01", "to": "2025-01-01"}, "to"),
        ("/v1/analytics/timeseries", {"metric": "happiness"}, "metric"),
        ("/v1/analytics/timeseries", {"metric": "likes", "bucket": "fortnight"}, "bucket"),
        ("/v1/analytics/top-posts", {"metric": "happiness"}, "metric"),
        ("/v1/analytics/best-hours", {"metric": "happiness"}, "metric"),
        ("/v1/analytics/summary", {"from": "yesterday"}, "from"),
        ("/v1/analytics/summary", {"from": "0001-01-01", "to": "0001-01-10"}, "from"),  # no date overflow
        ("/v1/analytics/summary", {"from": "9999-12-20", "to": "9999-12-31"}, "from"),
    ],
)
async def test_bad_questions_are_422_naming_the_field(analytics, brand, path, params, field):
    async with analytics.client(brand) as client:
        response = await client.get(path, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


@pytest.mark.parametrize("path", ["/v1/analytics/posts", "/v1/analytics/syncs", "/v1/analytics/plans"])
async def test_a_cursor_this_api_did_not_issue_is_400(analytics, brand, path):
    import base64

    for cursor in (
        "not-a-cursor",
        base64.urlsafe_b64encode(b'["x", "y"]').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'"text"').decode(),
    ):
        async with analytics.client(brand) as client:
            response = await client.get(path, params={"cursor": cursor})
        assert response.status_code == 400, (cursor, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "cursor"


async def test_a_goal_on_an_unknown_metric_is_422(analytics, brand):
    async with analytics.client(brand) as client:
        response = await client.post("/v1/analytics/goals", json={"metric": "happiness", "target": 10})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "metric"


async def test_another_brand_sees_none_of_it(analytics, brand, fixture_brand):
    stranger = Identity(tenant_id=uuid.uuid4(), brand_id=uuid.uuid4(), user_id="x", role="owner")
    async with analytics.client(stranger) as client:
        summary = (await client.get("/v1/analytics/summary", params=fixture_brand["range"])).json()
        posts = (await client.get("/v1/analytics/posts", params=fixture_brand["range"])).json()
    assert summary["totals"]["impressions"]["value"] == 0
    assert posts["items"] == []


async def test_reports_are_served_from_the_read_replica_and_goals_from_the_primary(
    analytics, brand, fixture_brand
):
    """An operator's read replica takes the report queries off the primary; what a user reads
    right after writing it (goals) stays on the primary."""
    async with analytics.client(brand) as client:
        before = await analytics.pool.fetchval("SELECT clock_timestamp()")
        assert (await client.get("/v1/analytics/summary", params=fixture_brand["range"])).status_code == 200
        assert await _replica_used_since(analytics, before)
        before = await analytics.pool.fetchval("SELECT clock_timestamp()")
        goal = await client.post(
            "/v1/analytics/goals", json={"metric": "likes", "target": 100, "period": "week"}
        )
        assert goal.status_code == 201, goal.text
        assert (await client.get(f"/v1/analytics/goals/{goal.json()['goal_id']}")).status_code == 200
        assert not await _replica_used_since(analytics, before)


async def _replica_used_since(analytics, moment) -> bool:
    # An idle pooled connection's state changes only when it is used.
    return await analytics.pool.fetchval(
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = $1 AND state_change > $2",
        READ_POOL_NAME,
        moment,
    )


async def test_reports_best_hours_and_plans_follow_the_brands_time_zone(analytics, brand):
    """Tokyo is UTC+9: a post at Monday 20:00 UTC went out on Tuesday 05:00 there."""
    from aligned_common.events.gateway import BrandCreated

    await analytics.processed(
        await analytics.publish(
            BrandCreated(name="Tokyo", time_zone="Asia/Tokyo"), brand.brand_id, brand.tenant_id
        )
    )
    connection_id = await connect(analytics, brand)
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday() + 7)
    published = at(monday, 20)
    job_id = await publish_post(analytics, brand, connection_id, "sandbox", "tokyo-1", published)
    await fetched(
        analytics,
        brand,
        connection_id,
        "sandbox",
        [("tokyo-1", "likes", 0, published + timedelta(minutes=1))],
    )
    await fetched(analytics, brand, connection_id, "sandbox", [("tokyo-1", "likes", 7, at(monday, 21))])
    tuesday = monday + timedelta(days=1)
    async with analytics.client(brand) as client:
        hours = (
            await client.get("/v1/analytics/best-hours", params={"from": str(monday), "to": str(tuesday)})
        ).json()
        series = (
            await client.get(
                "/v1/analytics/timeseries",
                params={"metric": "likes", "from": str(monday), "to": str(tuesday)},
            )
        ).json()
        monday_only = (
            await client.get("/v1/analytics/summary", params={"from": str(monday), "to": str(monday)})
        ).json()
        plan = (await client.post("/v1/analytics/plans", json={"days": 2})).json()
        window = {"from": str(monday), "to": str(tuesday)}
        of_job = (await client.get("/v1/analytics/posts", params={**window, "job_id": str(job_id)})).json()[
            "items"
        ]
        of_other = (
            await client.get("/v1/analytics/posts", params={**window, "job_id": str(uuid.uuid4())})
        ).json()["items"]
    assert [p["remote_id"] for p in of_job] == ["tokyo-1"] and of_other == []
    assert hours["range"]["time_zone"] == "Asia/Tokyo"
    assert (hours["items"][0]["day_of_week"], hours["items"][0]["hour"], hours["items"][0]["posts"]) == (
        2,
        5,
        1,
    )
    # 21:00 UTC Monday is 06:00 Tuesday in Tokyo: the growth belongs to Tuesday, and Monday (Tokyo) has none.
    assert [(p["bucket_start"], p["value"]) for p in series["points"]] == [
        (str(monday), 0),
        (str(tuesday), 7),
    ]
    assert monday_only["totals"]["likes"]["value"] == 0
    # Plan slots are whole local hours: Tokyo has no half-hour offset, so every slot is on the UTC hour
    # at local hours (UTC hour + 9) % 24.
    from zoneinfo import ZoneInfo

    local_hours = [
        datetime.fromisoformat(s["at"]).astimezone(ZoneInfo("Asia/Tokyo")).hour for s in plan["slots"]
    ]
    local_days = [
        datetime.fromisoformat(s["at"]).astimezone(ZoneInfo("Asia/Tokyo")).date() for s in plan["slots"]
    ]
    tokyo_today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert local_days == [tokyo_today + timedelta(days=1), tokyo_today + timedelta(days=2)]
    assert len(local_hours) == 2
