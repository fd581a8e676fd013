"""Flow 4, metrics: analytics asks for a sync, connections fetches from the platform,
analytics stores the figures, serves them and tells when a goal is reached."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from aligned_testing.flows import LiveEvents, draft_and_submit, job_in
from aligned_testing.gateway_client import BrandSetup, SandboxControl, eventually

pytestmark = pytest.mark.e2e


async def test_metrics_arrive_for_a_published_post_and_a_goal_is_reached(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    goal = await owner.post("/v1/analytics/goals", {"metric": "likes", "target": 1, "period": "month"})
    async with LiveEvents(owner) as live:
        job = await draft_and_submit(
            owner,
            brand.connection_id,
            text=f"Measure me {uuid.uuid4().hex[:6]}",
            requires_approval=False,
            due_in_s=1,
        )
        published = await job_in(owner, job["job_id"], ("published", "failed"))
        assert published["status"] == "published"
        # Analytics syncs a new account and a new post by itself (nothing to see yet: the post is new).
        await live.wait_for("connections.metrics_fetched", connection_id=brand.connection_id)

        await sandbox.advance_clock(1800)  # half an hour on the platform: the post finds an audience
        requested = await owner.post("/v1/analytics/syncs", {"connection_id": brand.connection_id})
        assert requested["requested"]

        today = dt.datetime.now(dt.UTC).date()
        # to= tomorrow: the platform's clock was moved forward and may have crossed midnight
        # (the post detail's default range, 29 days to today, then misses the new figures).
        around_now = {"from": str(today - dt.timedelta(days=1)), "to": str(today + dt.timedelta(days=1))}

        async def liked():
            items = (await owner.get("/v1/analytics/posts", **around_now))["items"]
            mine = [m for m in items if m.get("job_id") == job["job_id"]]
            return mine[0] if mine and mine[0]["metrics"]["likes"] > 0 else None

        post = await eventually(liked, timeout_s=60, what="likes for the post")
        reached = await live.wait_for("analytics.goal_reached", goal_id=goal["goal_id"])

    assert post["remote_id"] == published["targets"][0]["remote_id"]
    assert reached["data"]["value"] >= 1
    if (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1800)).date() == today:
        # The post detail (gateway aggregate) shows them too, while its default range holds them.
        [in_detail] = (await owner.get(f"/v1/posts/{job['job_id']}"))["metrics"]
        assert in_detail["metrics"]["likes"] >= post["metrics"]["likes"]
    summary = await owner.get("/v1/analytics/summary", **around_now)
    assert summary["totals"]["likes"]["value"] == post["metrics"]["likes"]
    syncs = (await owner.get("/v1/analytics/syncs", connection_id=brand.connection_id))["items"]
    assert "on_demand" in {s["trigger"] for s in syncs}
    assert all(s["status"] == "succeeded" for s in syncs), syncs
