"""An id of another brand is not found: every approval and analytics route that takes one answers
404, exactly as for an id that does not exist, and a body naming another brand's connection
is refused with 422 naming the field. Two brands, through the gateway only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aligned_testing.flows import draft_and_submit, onboard_brand, pending_round
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, SandboxControl, eventually

pytestmark = pytest.mark.e2e


async def refused(api: Gateway, method: str, path: str, body: Any = None) -> tuple[int, str]:
    with pytest.raises(ApiError) as error:
        await api.request(method, path, json_body=body)
    return error.value.status, error.value.body.get("title") if isinstance(
        error.value.body, dict
    ) else error.value.body


async def same_as_missing(api: Gateway, method: str, theirs: str, missing: str, body: Any = None) -> None:
    """Another brand's id and a made-up one get the same answer: 404, same title."""
    other = await refused(api, method, theirs, body)
    none = await refused(api, method, missing, body)
    assert other[0] == 404, (method, theirs, other)
    assert other == none, (method, theirs, other, none)


async def test_another_brands_ids_are_not_found(
    brand: BrandSetup, api: Gateway, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    stranger = (await onboard_brand(api, sandbox.base_url, label="stranger", connect=False)).owner.api
    job = await draft_and_submit(
        owner, brand.connection_id, text="Ours only", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    link = await owner.post(f"/v1/approvals/{round_['id']}/links", {})
    rule = await owner.post(
        "/v1/escalation-rules", {"name": "r", "levels": [{"after_hours": 4, "notify_roles": ["admin"]}]}
    )
    goal = await owner.post("/v1/analytics/goals", {"metric": "likes", "target": 10, "period": "quarter"})

    async def planned():  # analytics learns of the connection from connections' events
        return await owner.post("/v1/analytics/plans", {"days": 1}, retry_for_s=0)

    plan = await eventually(planned, timeout_s=60, what="a plan for the connected account")
    new = uuid.uuid4()

    # The brand itself sees them.
    assert [r["id"] for r in (await owner.get(f"/v1/jobs/{job['job_id']}/approvals"))["items"]] == [
        round_["id"]
    ]

    # approval
    await same_as_missing(stranger, "GET", f"/v1/jobs/{job['job_id']}/approvals", f"/v1/jobs/{new}/approvals")
    await same_as_missing(stranger, "GET", f"/v1/approvals/{round_['id']}", f"/v1/approvals/{new}")
    await same_as_missing(
        stranger, "PATCH", f"/v1/approvals/{round_['id']}", f"/v1/approvals/{new}", {"note": "x"}
    )
    await same_as_missing(
        stranger,
        "POST",
        f"/v1/approvals/{round_['id']}/decision",
        f"/v1/approvals/{new}/decision",
        {"decision": "approve"},
    )
    await same_as_missing(
        stranger, "POST", f"/v1/approvals/{round_['id']}/links", f"/v1/approvals/{new}/links", {}
    )
    await same_as_missing(
        stranger,
        "DELETE",
        f"/v1/approvals/{round_['id']}/links/{link['id']}",
        f"/v1/approvals/{new}/links/{new}",
    )
    for method, body in (
        ("GET", None),
        ("PUT", {"name": "mine", "levels": [{"after_hours": 1, "notify_roles": ["admin"]}]}),
        ("DELETE", None),
    ):
        await same_as_missing(
            stranger, method, f"/v1/escalation-rules/{rule['id']}", f"/v1/escalation-rules/{new}", body
        )

    # analytics
    await same_as_missing(
        stranger, "GET", f"/v1/analytics/goals/{goal['goal_id']}", f"/v1/analytics/goals/{new}"
    )
    await same_as_missing(
        stranger, "DELETE", f"/v1/analytics/goals/{goal['goal_id']}", f"/v1/analytics/goals/{new}"
    )
    await same_as_missing(
        stranger, "GET", f"/v1/analytics/plans/{plan['plan_id']}", f"/v1/analytics/plans/{new}"
    )
    await same_as_missing(
        stranger, "POST", f"/v1/analytics/plans/{plan['plan_id']}/accept", f"/v1/analytics/plans/{new}/accept"
    )

    # A connection of another brand in a body or a filter: 422 naming the field, as for none.
    for connection_id in (brand.connection_id, str(new)):
        for method, path, body, params, field in (
            ("POST", "/v1/analytics/syncs", {"connection_id": connection_id}, None, "connection_id"),
            ("GET", "/v1/analytics/syncs", None, {"connection_id": connection_id}, "connection_id"),
            (
                "POST",
                "/v1/analytics/goals",
                {"metric": "likes", "target": 1, "connection_id": connection_id},
                None,
                "connection_id",
            ),
            ("POST", "/v1/analytics/plans", {"connection_ids": [connection_id]}, None, "connection_ids.0"),
        ):
            with pytest.raises(ApiError) as error:
                await stranger.request(method, path, json_body=body, params=params)
            assert error.value.status == 422, (method, path, error.value)
            assert [e["field"] for e in error.value.body["errors"]] == [field]
    assert (await stranger.get("/v1/analytics/goals"))["items"] == []  # nothing was stored

    # Nothing of it changed for the brand that owns it.
    assert (await owner.get(f"/v1/approvals/{round_['id']}"))["status"] == "pending"
    assert (await owner.get(f"/v1/escalation-rules/{rule['id']}"))["name"] == "r"
    assert (await owner.get(f"/v1/analytics/goals/{goal['goal_id']}"))["goal_id"] == goal["goal_id"]
    assert (await owner.get(f"/v1/analytics/plans/{plan['plan_id']}"))["status"] == "proposed"
