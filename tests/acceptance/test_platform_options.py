"""Per-platform fields (issue 23): a target's platform_options, checked against the platform
catalogue when the job is written (a 422 naming `targets[i].platform_options.<name>`), approved
with the post, and published with it: the sandbox shows what it received. Through the gateway
and the sandbox's own pages only."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from aligned_testing.flows import create_job, decide, job_in, pending_round
from aligned_testing.gateway_client import ApiError, BrandSetup, SandboxControl, eventually
from aligned_testing.mailbox import text_of
from aligned_testing.system import System

pytestmark = pytest.mark.e2e


def _target(connection_id: str, options: dict[str, Any] | None, platform: str = "sandbox") -> dict[str, Any]:
    return {"platform": platform, "connection_id": connection_id, "platform_options": options}


def _post(connection_id: str, text: str, options: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {"content": text, "targets": [_target(connection_id, options)], **extra}


async def _refusal(owner, body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ApiError) as refused:
        await create_job(owner, body)
    assert refused.value.status == 422, refused.value.body
    return [(e["field"], e.get("code", "")) for e in refused.value.body["errors"]]


async def test_a_posts_options_reach_the_platform_with_it(brand: BrandSetup, sandbox: SandboxControl) -> None:
    owner = brand.owner.api
    text = f"Members' preview {uuid.uuid4().hex[:8]}"
    options = {"visibility": "unlisted", "sensitive": True}
    job = await create_job(owner, _post(brand.connection_id, text, options))
    assert job["targets"][0]["platform_options"] == options
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")

    done = await job_in(owner, job["job_id"], ("published", "failed"))
    target = done["targets"][0]
    assert done["status"] == "published", done
    on_platform = await sandbox.post(target["remote_id"])
    assert (on_platform["text"], on_platform["visibility"], on_platform["sensitive"]) == (
        text,
        "unlisted",
        True,
    )
    async with httpx.AsyncClient() as web:
        page = (await web.get(target["url"])).text
    assert 'data-visibility="unlisted" data-sensitive="true"' in page


async def test_a_post_without_options_goes_out_with_the_platforms_defaults(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    job = await create_job(owner, _post(brand.connection_id, f"Plain {uuid.uuid4().hex[:8]}", None))
    assert job["targets"][0]["platform_options"] is None
    await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
    done = await job_in(owner, job["job_id"], ("published", "failed"))
    on_platform = await sandbox.post(done["targets"][0]["remote_id"])
    assert (on_platform["visibility"], on_platform["sensitive"]) == ("public", False)


async def test_an_unknown_option_a_bad_value_and_a_wrong_type_are_each_refused_naming_the_field(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    marker = uuid.uuid4().hex[:8]
    assert await _refusal(owner, _post(brand.connection_id, marker, {"colour": "red"})) == [
        ("targets[0].platform_options.colour", "unknown_option")
    ]
    assert await _refusal(owner, _post(brand.connection_id, marker, {"visibility": "friends"})) == [
        ("targets[0].platform_options.visibility", "not_allowed")
    ]
    assert await _refusal(owner, _post(brand.connection_id, marker, {"sensitive": "yes"})) == [
        ("targets[0].platform_options.sensitive", "wrong_type")
    ]
    assert (await owner.get("/v1/jobs", q=marker))["items"] == []


async def test_a_missing_required_option_is_refused_naming_it(brand: BrandSetup) -> None:
    # TikTok requires privacy_level (its API has no default). The brand has only a sandbox
    # account, so the refusal also says the account is not a TikTok one; the option is named all the same.
    owner = brand.owner.api
    body = {"content": "behind the scenes", "targets": [_target(brand.connection_id, {}, platform="tiktok")]}
    errors = await _refusal(owner, body)
    assert ("targets[0].platform_options.privacy_level", "required") in errors
    body["targets"][0]["platform_options"] = {"privacy_level": "EVERYONE"}
    assert ("targets[0].platform_options.privacy_level", "not_allowed") in await _refusal(owner, body)


async def test_huge_and_malformed_options_are_refused(brand: BrandSetup) -> None:
    owner = brand.owner.api
    too_many = {f"o{i}": "x" for i in range(31)}
    assert [f for f, _ in await _refusal(owner, _post(brand.connection_id, "x", too_many))] == [
        "targets.0.platform_options"
    ]
    not_an_object = await _refusal(owner, _post(brand.connection_id, "x", ["visibility"]))  # type: ignore[arg-type]
    assert [f for f, _ in not_an_object] == ["targets.0.platform_options"]


async def test_changing_the_options_of_an_approved_post_asks_for_approval_again(brand: BrandSetup) -> None:
    owner = brand.owner.api
    text = f"approved {uuid.uuid4().hex[:8]}"
    job = await create_job(
        owner, _post(brand.connection_id, text, {"visibility": "public"}, requires_approval=True)
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    await decide(brand.client, job["job_id"], "approve")
    await job_in(owner, job["job_id"], ("ready",))

    edited = await owner.request(
        "PATCH",
        f"/v1/jobs/{job['job_id']}",
        json_body={"targets": [_target(brand.connection_id, {"visibility": "private"})]},
    )

    assert edited["status"] == "pending_approval" and edited["approved"] is False
    assert edited["targets"][0]["platform_options"] == {"visibility": "private"}

    async def refused_now() -> bool:
        try:
            await owner.post(f"/v1/jobs/{job['job_id']}/publish-now")
        except ApiError as error:
            return error.status == 409
        return False

    assert await eventually(refused_now, timeout_s=10, what="publish-now refused before re-approval")


async def test_the_clients_review_page_shows_the_options_they_approve(
    brand: BrandSetup, system: System
) -> None:
    owner = brand.owner.api
    text = f"For review {uuid.uuid4().hex[:8]}"
    job = await create_job(
        owner, _post(brand.connection_id, text, {"visibility": "unlisted"}, requires_approval=True)
    )
    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    round_ = await pending_round(owner, job["job_id"])
    reviewer = f"rita-{uuid.uuid4().hex[:8]}@client.example.com"
    await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": reviewer})

    async def mailed():
        return list(system.mailbox.to(reviewer)) or None

    (mail,) = await eventually(mailed, timeout_s=60, what=f"the review mail to {reviewer}")
    url = re.search(r"(https?://\S+/review/\S*)", text_of(mail)).group(1)
    async with httpx.AsyncClient(timeout=30) as browser:
        page = (await browser.get(url, headers={"accept": "text/html"})).text
    assert text in page and "<dt>visibility</dt><dd>unlisted</dd>" in page
