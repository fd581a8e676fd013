"""References stay in their brand (issue 18): a job may name only its own brand's connections
(connected, not disconnected) and media. Anything else is a 422 naming the field, and nothing
is stored. Publishing checks against its own copy of connections' events, not the id's say-so."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aligned_testing.flows import create_job, onboard_brand, upload_photo
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    SandboxControl,
    connect_sandbox,
    eventually,
)

pytestmark = pytest.mark.e2e


def _post(connection_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"content": text, "targets": [{"platform": "sandbox", "connection_id": connection_id}], **extra}


async def _refused(api: Gateway, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ApiError) as refused:
        await api.request(method, path, json_body=body)
    assert refused.value.status == 422, refused.value.body
    assert refused.value.body["status"] == 422 and refused.value.body["title"]
    return refused.value.body


async def _stored(api: Gateway, marker: str) -> list[dict[str, Any]]:
    return (await api.get("/v1/jobs", q=marker))["items"]


async def test_another_brands_or_an_unknown_connection_is_refused_naming_the_field(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    other = await onboard_brand(api, sandbox.base_url, label="other")
    await create_job(other.owner.api, _post(other.connection_id, "the other brand's own post"))  # it is known

    marker = f"foreign{uuid.uuid4().hex[:8]}"
    body = await _refused(owner, "POST", "/v1/jobs", _post(other.connection_id, f"post {marker}"))
    (error,) = body["errors"]
    assert error["field"] == "targets[0].connection_id" and error["code"] == "unknown_connection"
    # Another brand's connection and one that never existed are told apart by nothing.
    body = await _refused(owner, "POST", "/v1/jobs", _post(str(uuid.uuid4()), f"post {marker}"))
    assert (
        body["errors"][0]["field"] == "targets[0].connection_id"
        and body["errors"][0]["code"] == "unknown_connection"
    )
    assert await _stored(owner, marker) == []

    # An edit may not point a job at it either, and leaves the job as it was.
    job = await create_job(owner, _post(brand.connection_id, f"mine {marker}"))
    body = await _refused(
        owner,
        "PATCH",
        f"/v1/jobs/{job['job_id']}",
        {
            "content": "changed",
            "targets": [
                {"platform": "sandbox", "connection_id": brand.connection_id},
                {"platform": "sandbox", "connection_id": other.connection_id},
            ],
        },
    )
    assert [e["field"] for e in body["errors"]] == ["targets[1].connection_id"]
    unchanged = await owner.get(f"/v1/jobs/{job['job_id']}")
    assert unchanged["content"] == f"mine {marker}" and [
        t["connection_id"] for t in unchanged["targets"]
    ] == [brand.connection_id]


async def test_a_disconnected_connection_is_refused(brand: BrandSetup, sandbox: SandboxControl) -> None:
    owner = brand.owner.api
    gone = await connect_sandbox(owner, sandbox.base_url, f"leaving-{uuid.uuid4().hex[:6]}")
    probe = await create_job(owner, _post(gone["id"], "probe"))  # known to publishing now
    await owner.request("DELETE", f"/v1/connections/{gone['id']}")

    async def disconnected_seen():
        try:
            await owner.request(
                "PATCH",
                f"/v1/jobs/{probe['job_id']}",
                json_body={"targets": [{"platform": "sandbox", "connection_id": gone["id"]}]},
            )
        except ApiError as error:
            return error.body if error.status == 422 else None
        return None

    body = await eventually(disconnected_seen, timeout_s=30, what="publishing to see the disconnect")
    assert body["errors"][0]["field"] == "targets[0].connection_id"
    assert body["errors"][0]["code"] == "connection_disconnected"

    marker = f"gone{uuid.uuid4().hex[:8]}"
    body = await _refused(owner, "POST", "/v1/jobs", _post(gone["id"], f"post {marker}"))
    assert body["errors"][0]["code"] == "connection_disconnected"
    assert await _stored(owner, marker) == []


async def test_a_connection_on_another_platform_is_refused_naming_the_platform(brand: BrandSetup) -> None:
    marker = f"platform{uuid.uuid4().hex[:8]}"
    body = await _refused(
        brand.owner.api,
        "POST",
        "/v1/jobs",
        {
            "content": f"post {marker}",
            "targets": [{"platform": "bluesky", "connection_id": brand.connection_id}],
        },
    )
    error = next(e for e in body["errors"] if e.get("code") == "platform_mismatch")
    assert error["field"] == "targets[0].platform"
    assert await _stored(brand.owner.api, marker) == []


async def test_media_of_another_brand_is_refused_naming_the_field(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    other = await onboard_brand(api, sandbox.base_url, label="other", connect=False)
    theirs = await upload_photo(other.owner.api)
    mine = await upload_photo(owner)

    marker = f"media{uuid.uuid4().hex[:8]}"
    body = await _refused(
        owner,
        "POST",
        "/v1/jobs",
        _post(brand.connection_id, f"post {marker}", media_ids=[mine["media_id"], theirs["media_id"]]),
    )
    assert [e["field"] for e in body["errors"]] == ["media_ids[1]"]
    target_media = _post(brand.connection_id, f"post {marker}")
    target_media["targets"][0]["media_ids"] = [theirs["media_id"]]
    body = await _refused(owner, "POST", "/v1/jobs", target_media)
    assert [e["field"] for e in body["errors"]] == ["targets[0].media_ids[0]"]
    assert await _stored(owner, marker) == []

    job = await create_job(owner, _post(brand.connection_id, f"kept {marker}", media_ids=[mine["media_id"]]))
    await _refused(owner, "PATCH", f"/v1/jobs/{job['job_id']}", {"media_ids": [theirs["media_id"]]})
    assert (await owner.get(f"/v1/jobs/{job['job_id']}"))["media_ids"] == [mine["media_id"]]
