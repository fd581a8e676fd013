"""Analytics reports and best hours are in the brand's time zone, not UTC: a brand on Kiritimati
(UTC+14) sees its days end at its own midnight and its post in the hour it went out locally."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from aligned_testing.flows import draft_and_submit, job_in
from aligned_testing.gateway_client import (
    Gateway,
    SandboxControl,
    brand_of,
    connect_sandbox,
    dev_token,
    eventually,
)

pytestmark = pytest.mark.e2e

ZONE = "Pacific/Kiritimati"  # UTC+14: its date differs from UTC's for 14 hours of every day


def hour_of_week(moment: dt.datetime) -> int:
    local = moment.astimezone(ZoneInfo(ZONE))
    return local.weekday() * 24 + local.hour


async def test_reports_and_best_hours_follow_the_brands_time_zone(
    api: Gateway, sandbox: SandboxControl
) -> None:
    tag = uuid.uuid4().hex[:8]
    tenant_id, owner_id, email = str(uuid.uuid4()), f"owner-{tag}", f"owner-{tag}@example.com"
    tenant_token = await dev_token(api, user_id=owner_id, tenant_id=tenant_id, email=email)
    created = await api.as_(tenant_token).post("/v1/brands", {"name": f"Kiritimati {tag}", "time_zone": ZONE})
    brand = await brand_of(api, tenant_id, created, owner_id, email)
    owner = brand.owner.api
    connection = await connect_sandbox(owner, sandbox.base_url, f"tz-{tag}")

    before = dt.datetime.now(dt.UTC)
    job = await draft_and_submit(
        owner, connection["id"], text=f"Good morning {tag}", requires_approval=False, due_in_s=1
    )
    await job_in(owner, job["job_id"], ("published",))
    after = dt.datetime.now(dt.UTC)

    # The default range ends today where the brand is.
    async def in_zone():  # analytics learns the zone from the gateway's brand_created
        summary = await owner.get("/v1/analytics/summary")
        return summary if summary["range"]["time_zone"] == ZONE else None

    summary = await eventually(in_zone, timeout_s=60, what="the brand's zone in analytics")
    assert summary["range"]["to"] == str(dt.datetime.now(ZoneInfo(ZONE)).date())

    # The post counts in the local hour of the week it went out in (UTC's would be 14 hours off).
    async def counted():
        items = (await owner.get("/v1/analytics/best-hours"))["items"]
        return [h for h in items if h["posts"] == 1] or None

    [slot] = await eventually(counted, timeout_s=60, what="the post in the best hours")
    assert slot["hour_of_week"] in {hour_of_week(before), hour_of_week(after)}
    utc = {before.weekday() * 24 + before.hour, after.weekday() * 24 + after.hour}
    assert slot["hour_of_week"] not in utc
