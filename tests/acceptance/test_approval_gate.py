"""The approval gate is decided where the job lives (issue 18): a policy binds every author, it
holds while the approval service is down, an editor cannot switch approval off, and an
approval covers exactly the content the approvers saw. Through the gateway only (plus stopping
the approval process, as an outage would)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from aligned_testing.flows import (
    create_job,
    decide,
    in_seconds,
    job_in,
    pending_round,
    put_policy,
    upload_photo,
)
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    SandboxControl,
    add_member,
    connect_sandbox,
    eventually,
)

pytestmark = pytest.mark.e2e


def _post(connection_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"content": text, "targets": [{"platform": "sandbox", "connection_id": connection_id}], **extra}


async def _editor(brand: BrandSetup):
    tag = uuid.uuid4().hex[:6]
    return await add_member(brand, user_id=f"editor-{tag}", email=f"editor-{tag}@example.com", role="editor")


async def _gated(api: Gateway, job_id: str, policy_id: str) -> dict[str, Any]:
    """Waits until publishing's copy of the policies has `policy_id` and gates the job by it,
    the way a frontend would watch the job's approval badge."""

    async def check():
        job = await api.get(f"/v1/jobs/{job_id}")
        return job if job["approval_required"] and policy_id in (job["approval_reason"] or "") else None

    return await eventually(check, timeout_s=30, what=f"job {job_id} gated by policy {policy_id}")


async def _put_policy(owner: Gateway, **body: Any) -> dict[str, Any]:
    return await put_policy(owner, body)


async def test_a_brand_policy_binds_an_editor_who_did_not_ask_for_approval(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    editor = await _editor(brand)
    policy = await _put_policy(owner, mode="approval_required")
    text = f"Under the brand's policy {uuid.uuid4().hex[:6]}"
    job = await create_job(editor.api, _post(brand.connection_id, text))  # requires_approval not asked for
    job = await _gated(editor.api, job["job_id"], policy["id"])
    assert job["requires_approval"] is False and job["status"] == "draft"

    with pytest.raises(ApiError) as refused:
        await editor.api.post(f"/v1/jobs/{job['job_id']}/publish-now")
    assert refused.value.status == 409
    assert refused.value.body["title"] == "Conflict" and policy["id"] in refused.value.body["approval_reason"]

    submitted = await editor.api.post(f"/v1/jobs/{job['job_id']}/submit")
    assert submitted["status"] == "pending_approval" and policy["id"] in submitted["status_reason"]
    await asyncio.sleep(2)
    assert (await sandbox.counts())["by_text"].get(text) is None  # nothing went out

    await decide(brand.client, job["job_id"], "approve")
    ready = await job_in(editor.api, job["job_id"], ("ready",))
    assert ready["approved"] is True
    await editor.api.post(f"/v1/jobs/{job['job_id']}/publish-now")
    await job_in(editor.api, job["job_id"], ("published",))
    assert (await sandbox.counts())["by_text"][text] == 1


async def test_a_policy_change_reaches_jobs_already_scheduled_and_an_author_policy_binds_only_that_author(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    editor = await _editor(brand)
    theirs = await create_job(
        editor.api, _post(brand.connection_id, "Editor's post", scheduled_at=in_seconds(3600))
    )
    ours = await create_job(owner, _post(brand.connection_id, "Owner's post", scheduled_at=in_seconds(3600)))
    for job in (theirs, ours):
        assert (await owner.post(f"/v1/jobs/{job['job_id']}/submit"))["status"] == "scheduled"

    policy = await _put_policy(owner, user_id=editor.user_id, mode="approval_required")
    moved = await job_in(owner, theirs["job_id"], ("pending_approval",), timeout_s=30)
    assert policy["id"] in moved["approval_reason"] and f"author {editor.user_id}" in moved["approval_reason"]
    round_ = await pending_round(brand.client, theirs["job_id"])
    assert round_["content_hash"] == moved["content_hash"]

    # The owner's job is not that author's: still scheduled, not gated.
    await asyncio.sleep(1)
    untouched = await owner.get(f"/v1/jobs/{ours['job_id']}")
    assert untouched["status"] == "scheduled" and untouched["approval_required"] is False

    # A per-connection policy reaches the owner's job too.
    by_connection = await _put_policy(owner, connection_id=brand.connection_id, mode="approval_required")
    moved = await job_in(owner, ours["job_id"], ("pending_approval",), timeout_s=30)
    assert by_connection["id"] in moved["approval_reason"]


async def test_the_gate_holds_while_the_approval_service_is_down(
    system, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    editor = await _editor(brand)
    policy = await _put_policy(owner, mode="approval_required")
    probe = await create_job(editor.api, _post(brand.connection_id, "probe"))
    await _gated(editor.api, probe["job_id"], policy["id"])

    approval = system.services["approval"]
    await asyncio.to_thread(approval.stop)
    try:
        text = f"Written while approval is down {uuid.uuid4().hex[:6]}"
        job = await create_job(editor.api, _post(brand.connection_id, text, scheduled_at=in_seconds(2)))
        submitted = await editor.api.post(f"/v1/jobs/{job['job_id']}/submit")
        assert submitted["status"] == "pending_approval" and policy["id"] in submitted["approval_reason"]
        with pytest.raises(ApiError) as refused:
            await editor.api.post(f"/v1/jobs/{job['job_id']}/publish-now")
        assert refused.value.status == 409
        await asyncio.sleep(4)  # past its time
        assert (await owner.get(f"/v1/jobs/{job['job_id']}"))["status"] == "pending_approval"
        assert (await sandbox.counts())["by_text"].get(text) is None
    finally:
        await asyncio.to_thread(approval.start)
        await asyncio.to_thread(approval.wait_healthy)

    # Back up, approval catches up from the log: the round opens and its approval lets it out.
    await decide(brand.client, job["job_id"], "approve")
    await job_in(owner, job["job_id"], ("published",))


async def test_an_editor_cannot_switch_approval_off_and_an_owners_waiver_is_audited(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    editor = await _editor(brand)
    job = await create_job(
        editor.api,
        _post(brand.connection_id, "Needs a yes", requires_approval=True, scheduled_at=in_seconds(3600)),
    )
    await editor.api.post(f"/v1/jobs/{job['job_id']}/submit")
    await decide(brand.client, job["job_id"], "approve")
    await job_in(editor.api, job["job_id"], ("scheduled",))

    # The editor tries to switch approval off on the approved job: it goes back for approval.
    edited = await editor.api.request(
        "PATCH", f"/v1/jobs/{job['job_id']}", json_body={"requires_approval": False}
    )
    assert edited["status"] == "pending_approval" and edited["approval_round"] == 2
    assert edited["requires_approval"] is True and edited["approved"] is False
    assert "only admin, owner may waive" in edited["approval_note"]
    await pending_round(brand.client, job["job_id"])

    # The owner may waive it: recorded on the job and in the audit trail.
    waived = await owner.request("PATCH", f"/v1/jobs/{job['job_id']}", json_body={"requires_approval": False})
    assert waived["status"] == "scheduled" and waived["approved"] is True
    assert waived["approval_waived_by"] == brand.owner.user_id and waived["approval_note"] is None

    async def audited():
        rows = (await owner.get("/v1/audit-logs", action="publishing.approval_waived"))["items"]
        return next((r for r in rows if r["entity_id"] == job["job_id"]), None)

    row = await eventually(audited, timeout_s=30, what="the waiver in the audit trail")
    assert row["actor"] == brand.owner.user_id

    # A policy that names only the owner as waiver: an admin cannot waive either.
    admin = await add_member(
        brand,
        user_id=f"admin-{uuid.uuid4().hex[:6]}",
        email=f"a{uuid.uuid4().hex[:6]}@example.com",
        role="admin",
    )
    policy = await _put_policy(owner, mode="approval_required", waiver_roles=["owner"])
    gated = await create_job(admin.api, _post(brand.connection_id, "Admin's post"))
    await _gated(admin.api, gated["job_id"], policy["id"])
    await admin.api.post(f"/v1/jobs/{gated['job_id']}/submit")
    refused = await admin.api.request(
        "PATCH", f"/v1/jobs/{gated['job_id']}", json_body={"requires_approval": False}
    )
    assert refused["status"] == "pending_approval" and "only owner may waive" in refused["approval_note"]


async def test_approvers_see_every_targets_own_text_and_media_and_approve_exactly_that(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner, client = brand.owner.api, brand.client
    second = await connect_sandbox(owner, sandbox.base_url, f"second-{uuid.uuid4().hex[:6]}")
    photo = await upload_photo(owner)
    body = {
        "content": "The main text",
        "requires_approval": True,
        "scheduled_at": in_seconds(3600),
        "targets": [
            {"platform": "sandbox", "connection_id": brand.connection_id, "text": "This account's own words"},
            {"platform": "sandbox", "connection_id": second["id"], "media_ids": [photo["media_id"]]},
        ],
    }
    job = await create_job(owner, body)
    job = await owner.post(f"/v1/jobs/{job['job_id']}/submit")

    first = await pending_round(client, job["job_id"])
    assert [(t["connection_id"], t["text"], t["media_ids"]) for t in first["targets"]] == [
        (brand.connection_id, "This account's own words", []),
        (second["id"], "The main text", [photo["media_id"]]),
    ]
    assert first["content_hash"] == job["content_hash"]

    await client.api.post(f"/v1/approvals/{first['id']}/decision", {"decision": "approve", "comment": "yes"})
    approved = await job_in(owner, job["job_id"], ("scheduled",))
    assert approved["approved"] is True

    # One target's text changes after the approval: what goes out is not what was approved.
    body["targets"][1]["text"] = "A late change on the second account"
    edited = await owner.request("PATCH", f"/v1/jobs/{job['job_id']}", json_body={"targets": body["targets"]})
    assert edited["status"] == "pending_approval" and edited["approved"] is False
    assert edited["content_hash"] != job["content_hash"]
    again = await pending_round(client, job["job_id"])
    assert again["round"] == 2 and again["content_hash"] == edited["content_hash"]
    assert again["targets"][1]["text"] == "A late change on the second account"
