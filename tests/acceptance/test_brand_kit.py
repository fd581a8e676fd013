"""The brand kit (issue 26): versioned with who and when, changed only from the version one read
(If-Match), compared and restored; its guardrails checked on every draft. Through the gateway
only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aligned_testing.flows import create_job, onboard_brand, pending_round
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, SandboxControl, eventually

pytestmark = pytest.mark.e2e

KIT: dict[str, Any] = {
    "voice": "Warm, direct, no jargon.",
    "example_posts": ["Spring is here: our new range is out."],
    "hashtag_sets": {"launch": ["#new", "#spring"]},
    "banned_terms": [{"term": "crème brûlée", "level": "block"}],
    "required_disclosures": [{"text": "#ad", "when_tag": "sponsored"}],
    "allowed_link_domains": ["example.com"],
    "hashtag_limit": {"max": 2, "level": "warn"},
    "default_first_comment": "More at https://example.com",
    "platforms": {"mastodon": {"notes": "CW for spoilers"}},
}


async def _put(member: Gateway, kit: dict[str, Any], etag: str | None = None):
    return await member.send("PUT", "/v1/brand-kit", kit, {"If-Match": etag} if etag else None)


async def test_a_kit_is_versioned_changed_only_from_the_current_version_compared_and_restored(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    first = await _put(owner, KIT)
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == '"1"' and first.json()["version"] == 1

    changed = KIT | {"voice": "Playful.", "hashtag_limit": {"max": 3, "level": "warn"}}
    second = await _put(owner, changed, first.headers["ETag"])
    assert second.status_code == 200 and second.headers["ETag"] == '"2"'

    stale = await _put(owner, KIT | {"voice": "Formal."}, first.headers["ETag"])
    assert stale.status_code == 412 and stale.json()["type"] == "urn:aligned:problem:precondition-failed"
    missing = await _put(owner, KIT | {"voice": "Formal."})
    assert (
        missing.status_code == 428 and missing.json()["type"] == "urn:aligned:problem:precondition-required"
    )
    assert (await owner.get("/v1/brand-kit"))["kit"]["voice"] == "Playful.", "refused changes left no trace"

    versions = (await owner.get("/v1/brand-kit/versions"))["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert {v["author_id"] for v in versions} == {brand.owner.user_id}

    diff = await owner.get("/v1/brand-kit/diff", **{"from": 1, "to": 2})
    assert {c["field"]: (c["before"], c["after"]) for c in diff["changes"]} == {
        "voice": ("Warm, direct, no jargon.", "Playful."),
        "hashtag_limit.max": (2, 3),
    }

    restored = await owner.send("POST", "/v1/brand-kit/versions/1/restore", headers={"If-Match": '"2"'})
    assert restored.status_code == 200, restored.text
    body = restored.json()
    assert body["version"] == 3 and body["restored_from"] == 1 and body["kit"]["voice"] == KIT["voice"]
    assert (await owner.get("/v1/brand-kit/versions/2"))["kit"]["voice"] == "Playful.", "history stays"


async def test_another_brand_can_neither_read_nor_change_this_brands_kit(
    brand: BrandSetup, api: Gateway, sandbox: SandboxControl
) -> None:
    assert (await _put(brand.owner.api, KIT)).status_code == 200
    other = (await onboard_brand(api, sandbox.base_url, label="kit-other", connect=False)).owner.api
    for path in ("/v1/brand-kit", "/v1/brand-kit/versions/1"):
        with pytest.raises(ApiError) as refused:
            await other.get(path)
        assert refused.value.status == 404
    restore = await other.send("POST", "/v1/brand-kit/versions/1/restore", headers={"If-Match": '"1"'})
    assert restore.status_code == 404
    # Its own first version is its own; ours is untouched.
    assert (await _put(other, KIT | {"voice": "theirs"})).json()["version"] == 1
    assert (await brand.owner.api.get("/v1/brand-kit"))["kit"]["voice"] == KIT["voice"]
    # A client of this brand reads the kit but cannot change it.
    assert brand.client is not None
    assert (await brand.client.api.get("/v1/brand-kit"))["version"] == 1
    assert (await _put(brand.client.api, KIT, '"1"')).status_code == 403


async def _refused_once_kit_known(owner: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    """Publishing learns the kit from its event within moments: until then a draft passes."""

    async def refused() -> dict[str, Any] | None:
        try:
            await create_job(owner, body)
        except ApiError as error:
            if error.status == 422:
                return error.body
            raise
        return None

    return await eventually(refused, timeout_s=30, what="publishing to apply the brand kit")


async def test_a_banned_term_in_another_case_and_accent_is_refused_naming_the_rule_and_span(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    assert (await _put(owner, KIT)).status_code == 200
    text = f"Dessert {uuid.uuid4().hex[:6]}: CREME Brulee for all"
    body = {
        "content": "fine",
        "targets": [{"platform": "sandbox", "connection_id": brand.connection_id, "text": text}],
    }
    problem = await _refused_once_kit_known(owner, body)
    assert problem["title"] == "Guardrail violated"
    (error,) = problem["errors"]
    assert error["field"] == "targets[0].text" and error["rule"] == "banned_term:creme brulee"
    assert text[error["start"] : error["end"]] == "CREME Brulee"


async def test_a_warn_rule_is_kept_on_the_job_and_shown_to_approvers(brand: BrandSetup, api: Gateway) -> None:
    owner = brand.owner.api
    assert (await _put(owner, KIT)).status_code == 200
    await _refused_once_kit_known(
        owner,
        {
            "content": "crème brûlée",
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    text = f"Hello {uuid.uuid4().hex[:6]} #one #two #three"
    job = await create_job(
        owner,
        {
            "content": text,
            "requires_approval": True,
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    (warning,) = job["guardrail_warnings"]
    assert warning["rule"] == "hashtag_limit" and warning["field"] == "content"
    assert text[warning["start"] : warning["end"]] == "#three"
    assert (await owner.get(f"/v1/jobs/{job['job_id']}"))["guardrail_warnings"] == [warning]

    await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    assert brand.client is not None
    round_ = await pending_round(brand.client, job["job_id"])
    read = await brand.client.api.get(f"/v1/approvals/{round_['id']}")
    assert [w["rule"] for w in read["targets"][0]["warnings"]] == ["hashtag_limit"]
    assert read["status"] == "pending", "a warning does not block the round"
    link = await owner.post(f"/v1/approvals/{round_['id']}/links", {})
    page = await api.get(link["url"].removeprefix(api.base_urls[0]))
    assert page["platforms"][0]["warnings"] == [read["targets"][0]["warnings"][0]["message"]]


async def test_malformed_kits_and_preconditions_are_refused_naming_the_field(brand: BrandSetup) -> None:
    owner = brand.owner.api
    bad = await _put(owner, KIT | {"banned_terms": [{"term": "a\x00b"}], "hashtag_limit": {"max": -1}})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert any("banned_terms" in f for f in fields) and any("hashtag_limit" in f for f in fields)
    huge = await _put(owner, KIT | {"example_posts": ["x"] * 51})
    assert huge.status_code == 422
    assert (await _put(owner, KIT, '"1"')).status_code == 412, "no kit yet: nothing to match"
    assert (await _put(owner, KIT)).status_code == 200
    for etag in ("garbage", '"99999999999999"', 'W/"0"'):
        assert (await _put(owner, KIT, etag)).status_code == 412
    assert (await _put(owner, KIT, "*")).status_code == 200
    missing = await owner.send("GET", "/v1/brand-kit/diff?from=1&to=7")
    assert missing.status_code == 404
