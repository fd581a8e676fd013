"""First comments (issue 24): a post may carry a comment, approved with it and published right
after it as a reply on the platform; the job shows the comment's own status and URL, and a
comment the platform cannot take is a 422 naming the field. Through the gateway and the
sandbox's own pages only."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from aligned_testing.flows import create_job, decide, job_in
from aligned_testing.gateway_client import ApiError, BrandSetup, SandboxControl, eventually

pytestmark = pytest.mark.e2e


def _post(connection_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"content": text, "targets": [{"platform": "sandbox", "connection_id": connection_id}], **extra}


async def test_an_approved_post_goes_out_then_its_first_comment_as_a_reply_once(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    marker = uuid.uuid4().hex[:8]
    text, comment = f"Our spring launch {marker}", f"Details and prices: https://example.com/{marker}"
    job = await create_job(
        owner, _post(brand.connection_id, text, first_comment=comment, requires_approval=True)
    )
    assert job["targets"][0]["first_comment"]["text"] == comment
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    await decide(brand.client, job["job_id"], "approve")
    await job_in(owner, job["job_id"], ("ready",))
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")

    async def comment_out() -> dict[str, Any] | None:
        current = await owner.get(f"/v1/jobs/{job['job_id']}")
        return (
            current if (current["targets"][0]["first_comment"] or {}).get("status") == "published" else None
        )

    done = await eventually(comment_out, timeout_s=90, what="the first comment to be published")
    target = done["targets"][0]
    assert done["status"] == "published" and target["status"] == "published"
    reply = await sandbox.post(target["first_comment"]["remote_id"])
    assert reply["text"] == comment and reply["in_reply_to_id"] == target["remote_id"]
    assert target["first_comment"]["url"] == reply["url"]
    counts = await sandbox.counts()
    assert counts["by_text"][text] == 1 and counts["by_text"][comment] == 1

    # The post's public page shows the comment among its replies.
    async with httpx.AsyncClient() as web:
        page = (await web.get(target["url"])).text
    (replies,) = re.findall(r'<ol class="replies">(.*?)</ol>', page)
    assert target["first_comment"]["remote_id"] in replies


async def test_lost_answers_to_the_post_and_to_its_comment_make_neither_twice(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    # The platform makes the post, then the comment, but neither answer comes back in time:
    # each is settled by asking the platform (the comment under its own key), never re-sent.
    owner = brand.owner.api
    marker = uuid.uuid4().hex[:8]
    text, comment = f"Answer lost {marker}", f"Comment whose answer is lost {marker}"
    await sandbox.add_fault(
        mode="timeout_after_accept", delay_s=6, count=2, endpoint="/api/v1/posts", method="POST"
    )
    try:
        job = await create_job(owner, _post(brand.connection_id, text, first_comment=comment))
        await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")

        async def settled() -> dict[str, Any] | None:
            current = await owner.get(f"/v1/jobs/{job['job_id']}")
            status = (current["targets"][0]["first_comment"] or {}).get("status")
            return current if status in ("published", "failed") else None

        done = await eventually(settled, timeout_s=120, what="the first comment to be settled")
    finally:
        await sandbox.clear_faults()

    assert done["targets"][0]["first_comment"]["status"] == "published", done
    counts = await sandbox.counts()
    assert counts["by_text"][text] == 1 and counts["by_text"][comment] == 1
    reply = await sandbox.post(done["targets"][0]["first_comment"]["remote_id"])
    assert reply["in_reply_to_id"] == done["targets"][0]["remote_id"]


async def test_a_first_comment_that_does_not_fit_is_refused_naming_the_field(brand: BrandSetup) -> None:
    owner = brand.owner.api
    marker = uuid.uuid4().hex[:8]
    with pytest.raises(ApiError) as refused:
        # create_job waits out "unknown connection" while the new account is announced, so the
        # refusal is the comment's alone.
        await create_job(owner, _post(brand.connection_id, f"fits {marker}", first_comment="a" * 1001))
    assert refused.value.status == 422, refused.value.body
    assert [(e["field"], e["code"]) for e in refused.value.body["errors"]] == [
        ("targets[0].first_comment", "text_too_long")
    ]
    assert (await owner.get("/v1/jobs", q=marker))["items"] == []


async def test_editing_the_first_comment_of_an_approved_post_asks_for_approval_again(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    job = await create_job(
        owner,
        _post(
            brand.connection_id,
            f"approved {uuid.uuid4().hex[:8]}",
            first_comment="one",
            requires_approval=True,
        ),
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    await decide(brand.client, job["job_id"], "approve")
    await job_in(owner, job["job_id"], ("ready",))

    edited = await owner.request("PATCH", f"/v1/jobs/{job['job_id']}", json_body={"first_comment": "two"})

    assert edited["status"] == "pending_approval" and edited["approved"] is False
    assert edited["targets"][0]["first_comment"]["text"] == "two"


async def test_the_gateways_openapi_documents_first_comments(api) -> None:
    schemas = (await api.get("/openapi.json"))["components"]["schemas"]
    for model in ("CreateJob", "EditJob", "TargetIn"):
        assert "first_comment" in schemas[model]["properties"], model
    assert {"status", "remote_id", "url"} <= set(schemas["FirstCommentOut"]["properties"])
