"""Plans become drafts (issue 18): accepting an auto plan gives the brand one draft job per slot,
due at the slot's moment and shown in the brand's time zone, and the drafts are gated like any
job. Through the gateway only."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from aligned_testing.gateway_client import (
    ApiError,
    Gateway,
    SandboxControl,
    brand_of,
    connect_sandbox,
    dev_token,
    eventually,
)

pytestmark = pytest.mark.e2e

ZONE = "Pacific/Kiritimati"  # UTC+14: a slot's local day differs from UTC's for 14 hours of each day


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_accepted_plan_becomes_gated_drafts_at_its_slots_in_the_brands_zone(
    api: Gateway, sandbox: SandboxControl
) -> None:
    tag = uuid.uuid4().hex[:8]
    tenant_id, owner_id, email = str(uuid.uuid4()), f"owner-{tag}", f"owner-{tag}@example.com"
    tenant_token = await dev_token(api, user_id=owner_id, tenant_id=tenant_id, email=email)
    created = await api.as_(tenant_token).post("/v1/brands", {"name": f"Planned {tag}", "time_zone": ZONE})
    owner = (await brand_of(api, tenant_id, created, owner_id, email)).owner.api
    connection = await connect_sandbox(owner, sandbox.base_url, f"plan-{tag}")
    await owner.request(
        "PUT", "/v1/policies", json_body={"mode": "approval_required"}
    )  # binds the drafts too

    async def planned():  # once analytics knows the brand's zone and its account
        if (await owner.get("/v1/analytics/summary"))["range"]["time_zone"] != ZONE:
            return None
        try:
            return await owner.post("/v1/analytics/plans", {"days": 2, "posts_per_day": 2})
        except ApiError as error:
            if error.status == 409:  # no active account known to analytics yet
                return None
            raise

    plan = await eventually(planned, timeout_s=60, what="a plan for the brand's account")
    slots = {(s["connection_id"], _moment(s["at"])) for s in plan["slots"]}
    assert len(slots) == 4 and {c for c, _ in slots} == {connection["id"]}
    await owner.post(f"/v1/analytics/plans/{plan['plan_id']}/accept")

    async def drafts():
        items = [j for j in (await owner.get("/v1/jobs", limit=50))["items"] if "auto-plan" in j["tags"]]
        gated = all(j["approval_required"] for j in items)  # publishing's copy of the policy may lag
        return items if len(items) >= len(slots) and gated else None

    jobs = await eventually(drafts, timeout_s=60, what="the plan's drafts")
    assert {(j["targets"][0]["connection_id"], _moment(j["scheduled_at"])) for j in jobs} == slots
    for job in jobs:
        assert job["status"] == "draft" and job["time_zone"] == ZONE
        local = _moment(job["scheduled_at"]).astimezone(ZoneInfo(ZONE))
        assert _moment(job["scheduled_local"]) == local and job["scheduled_local"].endswith("+14:00")
        assert (
            local.minute == 0 and local.date() > dt.datetime.now(ZoneInfo(ZONE)).date()
        )  # the plan's coming days
    assert len(jobs) == len(slots)  # one draft per slot, nothing twice
