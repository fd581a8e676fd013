"""Flow 2, publish: when due, publishing asks connections, connections calls the platform with
the account's token, and the job finishes; platform failures are retried, never duplicated."""

from __future__ import annotations

import uuid

import pytest

from aligned_testing.flows import LiveEvents, draft_and_submit, job_in
from aligned_testing.gateway_client import BrandSetup, SandboxControl

pytestmark = pytest.mark.e2e


async def test_an_approved_post_is_published_once_when_due(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    text = f"Due in two seconds {uuid.uuid4().hex[:6]}"
    async with LiveEvents(owner) as live:
        job = await draft_and_submit(
            owner, brand.connection_id, text=text, requires_approval=False, due_in_s=2
        )
        assert job["status"] == "scheduled"
        published = await job_in(owner, job["job_id"], ("published", "failed"))
        event = await live.wait_for("publishing.job_published", job_id=job["job_id"])

    assert published["status"] == "published"
    target = published["targets"][0]
    assert target["status"] == "published" and target["remote_id"] and target["url"]
    assert [(a["attempt"], a["outcome"]) for a in published["attempts"]] == [(1, "published")]
    assert event["data"]["targets"][0]["remote_id"] == target["remote_id"]
    counts = await sandbox.counts()
    assert counts["by_text"][text] == 1
    assert counts["by_post_id"][target["remote_id"]] == 1


@pytest.mark.parametrize(
    ("fault", "min_attempts"),
    [
        ({"mode": "error_500"}, 2),
        ({"mode": "error_429", "retry_after_s": 1}, 2),
        # The platform makes the post but the answer never comes in time: connections asks the
        # platform what happened (and may settle it in the same attempt), never posts twice.
        ({"mode": "timeout_after_accept", "delay_s": 6}, 1),
    ],
)
async def test_a_failed_call_is_retried_without_a_duplicate(
    brand: BrandSetup, sandbox: SandboxControl, fault: dict, min_attempts: int
) -> None:
    owner = brand.owner.api
    text = f"Retried until it works {fault['mode']} {uuid.uuid4().hex[:6]}"
    await sandbox.add_fault(**fault, count=1, endpoint="/api/v1/posts", method="POST")
    try:
        job = await draft_and_submit(
            owner, brand.connection_id, text=text, requires_approval=False, due_in_s=1
        )
        done = await job_in(owner, job["job_id"], ("published", "failed"), timeout_s=120)
    finally:
        await sandbox.clear_faults()

    assert done["status"] == "published", done
    outcomes = [a["outcome"] for a in done["attempts"]]
    assert outcomes[-1] == "published" and len(outcomes) >= min_attempts, outcomes
    assert (await sandbox.counts())["by_text"][text] == 1
