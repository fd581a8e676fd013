"""Calendar feeds (issue 24), through the gateway: a member makes a private feed and a calendar
app (no login) reads the brand's scheduled posts from its URL as RFC 5545; a client's approvals
feed shows what waits for their decision and drops it once decided; a revoked feed's URL is a
404; a guessed token is a 404 too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from aligned_testing.flows import create_job, decide, put_policy
from aligned_testing.gateway_client import BrandSetup, Gateway, eventually

pytestmark = pytest.mark.e2e


async def _events(api: Gateway, url: str) -> list[str] | None:
    answer = await api.fetch(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(answer.content).walk("VEVENT")]


async def test_a_private_feed_shows_the_schedule_and_an_approvers_feed_what_waits(
    api: Gateway, brand: BrandSetup
) -> None:
    owner, client = brand.owner.api, brand.client
    assert client is not None
    marker = uuid.uuid4().hex[:8]
    at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
    target = [{"platform": "sandbox", "connection_id": brand.connection_id}]
    job = await create_job(owner, {"content": f"launch {marker}", "targets": target, "scheduled_at": at})
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")

    feed = await owner.post("/v1/calendar-feeds", {"scope": "brand"})
    assert feed["url"].startswith("/calendar/") and feed["url"].endswith(".ics")
    anonymous = api.as_("")  # a calendar app: the URL is all it has
    assert await _events(anonymous, feed["url"]) == [f"[scheduled] launch {marker}"]

    # The client decides approvals: their feed lists what waits for them, until decided.
    await put_policy(owner, {"mode": "approval_required"})
    gated = await eventually(
        lambda: _gated_job(owner, target, at, marker), timeout_s=60, what="a job gated by the new policy"
    )
    # (the scheduled launch went back for approval too: the policy now covers it)
    mine = await client.api.post("/v1/calendar-feeds", {"scope": "approvals"})
    waiting = [f"[pending approval] launch {marker}", f"[pending approval] review {marker}"]
    assert sorted(await _events(anonymous, mine["url"]) or []) == waiting
    await decide(client, gated["job_id"])
    await eventually(
        lambda: _only(anonymous, mine["url"], waiting[:1]),
        timeout_s=60,
        what="the decided post off the approvals feed",
    )

    await owner.request("DELETE", f"/v1/calendar-feeds/{feed['feed_id']}")
    assert (await anonymous.fetch(feed["url"])).status_code == 404
    guessed = await anonymous.fetch(f"/calendar/{'A' * 43}.ics")
    assert guessed.status_code == 404 and guessed.headers["content-type"].startswith(
        "application/problem+json"
    )


async def _gated_job(owner: Gateway, target, at: str, marker: str):
    job = await create_job(owner, {"content": f"review {marker}", "targets": target, "scheduled_at": at})
    if not job["approval_required"]:
        await owner.request("DELETE", f"/v1/jobs/{job['job_id']}")
        return None
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    return job


async def _only(api: Gateway, url: str, summaries: list[str]) -> bool | None:
    return (await _events(api, url)) == summaries or None
