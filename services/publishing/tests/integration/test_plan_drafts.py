"""analytics.plan_accepted on the real broker: one draft per slot of the plan, due at the slot,
in the brand's zone, gated like any job; a redelivered event, and the same plan again in another
event (past the inbox's dedupe), create nothing twice."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from aligned_common.events.analytics import PlanAccepted, PlannedSlot
from aligned_common.events.approval import PolicyChanged
from aligned_testing.polling import eventually

pytestmark = pytest.mark.integration


async def _drafts(client, brand) -> list[dict]:
    items = (await client.get("/v1/jobs", headers=brand.headers, params={"limit": 50})).json()["items"]
    return [j for j in items if "auto-plan" in j["tags"]]


async def test_an_accepted_plan_makes_one_gated_draft_per_slot_and_never_twice(svc, brand):
    await brand.send(PolicyChanged(policy_id=uuid.uuid4(), mode="approval_required", changed_by="owner-1"))
    first = (svc.clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    slots = [
        PlannedSlot(platform="sandbox", connection_id=brand.sandbox, at=first + timedelta(hours=h))
        for h in (0, 6)
    ]
    accepted = PlanAccepted(plan_id=uuid.uuid4(), accepted_by="owner-1", slots=slots, time_zone="Asia/Tokyo")
    async with svc.client() as client:

        async def policy_known():  # the brand-wide policy reached publishing's copy
            probe = await client.post(
                "/v1/jobs",
                headers=brand.headers,
                json={
                    "content": "probe",
                    "targets": [{"platform": "sandbox", "connection_id": str(brand.sandbox)}],
                },
            )
            return probe.json()["approval_required"] or None

        await eventually(policy_known, what="the policy in publishing's copy")
        sent = await brand.send(accepted)

        async def made():
            drafts = await _drafts(client, brand)
            return drafts if len(drafts) == len(slots) else None

        drafts = await eventually(made, what="the plan's drafts")
        assert {datetime.fromisoformat(d["scheduled_at"]) for d in drafts} == {s.at for s in slots}
        for draft in drafts:
            assert draft["status"] == "draft" and draft["time_zone"] == "Asia/Tokyo"
            assert draft["author_id"] == "owner-1" and draft["approval_required"] is True  # the gate holds
            assert [t["connection_id"] for t in draft["targets"]] == [str(brand.sandbox)]

        await brand.send(envelope=sent)  # redelivered: the inbox drops it
        await brand.send(accepted)  # the same plan in a new event: the drafts' ids are the plan's and slots'
        await asyncio.sleep(3.0)
        assert sorted(d["job_id"] for d in await _drafts(client, brand)) == sorted(
            d["job_id"] for d in drafts
        )
