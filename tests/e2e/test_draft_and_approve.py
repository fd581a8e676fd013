"""Flow 1, draft and approve: publishing creates a job that needs approval, approval opens a
round, the client decides through the gateway, publishing follows the decision; an escalation
rule fires when a round waits too long."""

from __future__ import annotations

import pytest

from aligned_testing.flows import LiveEvents, decide, draft_and_submit, job_in, pending_round
from aligned_testing.gateway_client import ApiError, BrandSetup, eventually

pytestmark = pytest.mark.e2e


async def test_the_client_approves_a_post_and_it_is_scheduled(brand: BrandSetup) -> None:
    owner, client = brand.owner.api, brand.client
    job = await draft_and_submit(
        owner,
        brand.connection_id,
        text="Launch day: our spring range is in.",
        requires_approval=True,
        due_in_s=3600,
    )
    assert job["status"] == "pending_approval"

    round_ = await pending_round(client, job["job_id"])
    assert round_["content"] == "Launch day: our spring range is in."
    waiting = (await client.api.get("/v1/approvals", status="pending"))["items"]
    assert round_["id"] in [r["id"] for r in waiting]  # the client's queue

    decided = await client.api.post(
        f"/v1/approvals/{round_['id']}/decision", {"decision": "approve", "comment": "Lovely"}
    )
    assert decided["status"] == "approved"
    with pytest.raises(ApiError) as second:
        await client.api.post(
            f"/v1/approvals/{round_['id']}/decision", {"decision": "reject", "comment": "changed my mind"}
        )
    assert second.value.status == 409  # a decision locks the round

    scheduled = await job_in(owner, job["job_id"], ("scheduled",))
    assert scheduled["approved"] is True

    # One read for the frontend: the job with its approval rounds.
    detail = await owner.get(f"/v1/posts/{job['job_id']}")
    assert [r["status"] for r in detail["approval_rounds"]] == ["approved"]
    assert detail["degraded"] == []

    # The audit trail holds the decision, by the client.
    async def approved_row():
        rows = (await owner.get("/v1/audit-logs", action="approval.approved"))["items"]
        return next((r for r in rows if r["entity_id"] == round_["id"]), None)

    row = await eventually(approved_row, timeout_s=30, what="the audit row of the decision")
    assert row["actor"] == client.user_id


async def test_changes_requested_then_resubmitted_and_approved(brand: BrandSetup) -> None:
    owner, client = brand.owner.api, brand.client
    job = await draft_and_submit(
        owner, brand.connection_id, text="Draft one", requires_approval=True, due_in_s=3600
    )

    await decide(client, job["job_id"], "request_changes", "Please mention the store opening hours")
    sent_back = await job_in(owner, job["job_id"], ("changes_requested",))
    assert "opening hours" in (sent_back["status_reason"] or "")

    await owner.request("PATCH", f"/v1/jobs/{job['job_id']}", json_body={"content": "Draft two: open 9 to 5"})
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    second = await pending_round(client, job["job_id"])
    assert second["round"] == 2 and second["content"] == "Draft two: open 9 to 5"

    await decide(client, job["job_id"], "approve")
    await job_in(owner, job["job_id"], ("scheduled",))
    rounds = (await owner.get(f"/v1/jobs/{job['job_id']}/approvals"))["items"]
    assert sorted((r["round"], r["status"]) for r in rounds) == [(1, "changes_requested"), (2, "approved")]


async def test_an_escalation_rule_fires_when_a_round_waits_too_long(brand: BrandSetup) -> None:
    owner = brand.owner.api
    # The e2e system runs escalation "hours" of 2 s (ALIGNED_APPROVAL_ESCALATION_HOUR_S), so
    # this fires one second after the round opens, then again one second later.
    await owner.post(
        "/v1/escalation-rules",
        {
            "name": "nudge",
            "levels": [
                {"after_hours": 0.5, "notify_roles": ["admin"]},
                {"after_hours": 0.5, "notify_roles": ["owner"]},
            ],
        },
    )
    async with LiveEvents(owner) as live:
        job = await draft_and_submit(
            owner, brand.connection_id, text="Waiting for a reply", requires_approval=True, due_in_s=3600
        )
        round_ = await pending_round(owner, job["job_id"])
        first = await live.wait_for("approval.escalated", approval_id=round_["id"], level=1)
        await live.wait_for("approval.escalated", approval_id=round_["id"], level=2)

    detail = await owner.get(f"/v1/approvals/{round_['id']}")
    assert sorted(e["level"] for e in detail["escalations"]) == [1, 2]  # each level once
    assert first["data"]["job_id"] == job["job_id"]
