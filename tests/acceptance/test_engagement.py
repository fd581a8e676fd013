"""The engagement inbox (issue 25), through the gateway and the sandbox's control pages: a
comment on a published post reaches the inbox once although the platform both pushes it (a
signed webhook) and lists it (connections' poll); it is assigned, answered from a template, and
the reply is on the platform's post exactly once. A review left unanswered past the brand's SLA
is announced (engagement.sla_breached) once and fires the brand's escalation rule (approval's):
one mail to the address the rule names."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from aligned_testing.flows import create_job, job_in
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    LiveEvents,
    SandboxControl,
    eventually,
)
from aligned_testing.system import System

pytestmark = pytest.mark.e2e


async def _published_post(owner: Gateway, brand: BrandSetup) -> str:
    text = f"Engagement {uuid.uuid4().hex[:8]}"
    body = {"content": text, "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}]}
    job = await create_job(owner, body)
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
    published = await job_in(owner, job["job_id"], ("published",))
    (target,) = published["targets"]
    return target["remote_id"]


async def _items(owner: Gateway, **filters: Any) -> list[dict[str, Any]]:
    return (await owner.get("/v1/engagement/items", **filters))["items"]


async def test_a_comment_delivered_twice_is_one_item_assigned_answered_from_a_template_once(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    post_id = await _published_post(owner, brand)
    async with LiveEvents(owner) as live:
        comment = await sandbox.comment(post_id, "Where can I buy this?", author_name="Ann", language="de")

        async def both_paths_delivered():
            found = [i for i in await _items(owner) if i["platform_item_id"] == comment["platform_item_id"]]
            return found if found and set(found[0]["sources"]) == {"webhook", "poll"} else None

        (item,) = await eventually(
            both_paths_delivered, timeout_s=60, what="the comment by webhook and by poll"
        )
        assert (item["kind"], item["state"], item["remote_post_id"], item["author_name"]) == (
            "comment",
            "open",
            post_id,
            "Ann",
        )
        await asyncio.sleep(3)  # more polls come and go: still one item, announced once on the live stream
        assert [
            i["id"] for i in await _items(owner) if i["platform_item_id"] == comment["platform_item_id"]
        ] == [item["id"]]
        announced = live.of_type("engagement.item_received", platform_item_id=comment["platform_item_id"])
        assert [e["data"]["item_id"] for e in announced] == [item["id"]]

    assigned = await owner.post(
        f"/v1/engagement/items/{item['id']}/state", {"state": "assigned", "assignee_id": brand.owner.user_id}
    )
    assert (assigned["state"], assigned["assignee_id"]) == ("assigned", brand.owner.user_id)
    assert [i["id"] for i in await _items(owner, state="assigned")] == [item["id"]]

    template = await owner.post(
        "/v1/engagement/templates",
        {
            "name": "where-to-buy",
            "body": "Thanks {reviewer_name}!",
            "variants": {"de": "Danke {reviewer_name}! {brand}"},
        },
    )
    key = {"Idempotency-Key": f"reply-{uuid.uuid4()}"}
    reply = await owner.request(
        "POST",
        f"/v1/engagement/items/{item['id']}/replies",
        json_body={"template_id": template["id"]},
        headers=key,
    )
    assert reply["status"] == "pending" and reply["text"] == f"Danke Ann! {brand.name}"
    # The same key again (a client's retry): the first reply, nothing sent twice.
    again = await owner.request(
        "POST",
        f"/v1/engagement/items/{item['id']}/replies",
        json_body={"template_id": template["id"]},
        headers=key,
    )
    assert again["id"] == reply["id"]

    async def replied():
        detail = await owner.get(f"/v1/engagement/items/{item['id']}")
        return detail if detail["state"] == "replied" and detail["replies"][0]["status"] == "sent" else None

    detail = await eventually(replied, timeout_s=60, what="the reply sent and the item replied")
    assert [h["to_state"] for h in detail["history"]] == ["assigned", "replied"]
    on_post = [c for c in await sandbox.comments(post_id) if c["parent_id"] == comment["platform_item_id"]]
    assert [c["text"] for c in on_post] == [f"Danke Ann! {brand.name}"]
    assert (await sandbox.reply_counts())[comment["platform_item_id"]] == 1
    # Our reply comes back in the next polls as a comment by the account: not an inbox item.
    await asyncio.sleep(3)
    assert [i["platform_item_id"] for i in await _items(owner)] == [comment["platform_item_id"]]
    counts = await owner.get("/v1/engagement/counts")
    assert counts["replied"] == 1 and counts["open"] == 0
    dashboard = await owner.get("/v1/dashboard")
    assert dashboard["inbox"]["replied"] == 1


async def test_an_unanswered_review_past_the_brands_sla_escalates_once(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    # The brand's escalation rule (approval's) names who hears of it; its first level fires.
    watcher = f"inbox-{uuid.uuid4().hex[:8]}@example.com"
    await owner.post(
        "/v1/escalation-rules",
        {"name": "inbox", "levels": [{"after_hours": 1, "notify_addresses": [watcher]}]},
    )
    # ALIGNED_ENGAGEMENT_SLA_HOUR_S is 2 s in the tests: a 2 "hour" SLA is 4 s.
    await owner.request("PUT", "/v1/engagement/sla", json_body={"first_response_hours": 2})
    async with LiveEvents(owner) as live:
        review = await sandbox.review(brand.connection["account_id"], 1, "Never again", reviewer_name="Bo")

        async def listed():
            found = [
                i
                for i in await _items(owner, kind="review")
                if i["platform_item_id"] == review["platform_item_id"]
            ]
            return found[0] if found else None

        item = await eventually(listed, timeout_s=60, what="the review in the inbox")
        breach = await live.wait_for("engagement.sla_breached", item_id=item["id"], timeout_s=60)
        assert breach["data"]["first_response_hours"] == 2
        [mail] = await system.mailbox.wait_for(watcher, subject="unanswered after 2 hours")
        assert "review" in mail["Subject"]
        await asyncio.sleep(3)  # more SLA passes: still one announcement, one mail
        assert len(live.of_type("engagement.sla_breached", item_id=item["id"])) == 1
        assert len(await asyncio.to_thread(system.mailbox.to, watcher)) == 1
    detail = await owner.get(f"/v1/engagement/items/{item['id']}")
    assert detail["sla_breached_at"] is not None and detail["rating"] == 1


async def test_another_brands_item_is_not_found_and_bad_input_names_the_field(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    from aligned_testing.flows import onboard_brand

    owner = brand.owner.api
    other = await onboard_brand(api, sandbox.base_url, label="other")
    review = await sandbox.review(other.connection["account_id"], 5, "Great", webhook=False)

    async def theirs():
        found = [
            i for i in await _items(other.owner.api) if i["platform_item_id"] == review["platform_item_id"]
        ]
        return found[0] if found else None

    item = await eventually(theirs, timeout_s=60, what="the other brand's review by poll")
    for method, path, body in (
        ("GET", f"/v1/engagement/items/{item['id']}", None),
        ("POST", f"/v1/engagement/items/{item['id']}/state", {"state": "done"}),
        ("POST", f"/v1/engagement/items/{item['id']}/replies", {"text": "hi"}),
    ):
        with pytest.raises(ApiError) as refused:
            await owner.request(method, path, json_body=body)
        assert refused.value.status == 404, refused.value.body
    with pytest.raises(ApiError) as bad:
        await owner.get("/v1/engagement/items", cursor="not-a-cursor")
    assert bad.value.status == 422 and [e["field"] for e in bad.value.body["errors"]] == ["cursor"]
    with pytest.raises(ApiError) as bad:
        await owner.post("/v1/engagement/items/bulk-state", {"state": "done", "item_ids": []})
    assert bad.value.status == 422
    with pytest.raises(ApiError) as bad:
        await owner.post("/v1/engagement/templates", {"name": "x", "body": "Hi {nme}"})
    assert bad.value.status == 422 and [e["field"] for e in bad.value.body["errors"]] == ["body"]
