"""Bad input to approval and analytics is a 4xx problem+json naming the field, never a 5xx:
numbers out of any sensible range, a goal per quarter, cursors the API did not issue."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aligned_testing.flows import draft_and_submit, pending_round
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway

pytestmark = pytest.mark.e2e

CURSORED = (
    "/v1/approvals",
    "/v1/audit-logs",
    "/v1/analytics/posts",
    "/v1/analytics/syncs",
    "/v1/analytics/plans",
)
NOT_OUR_CURSORS = (
    "garbage!",
    "AAAA",
    base64.urlsafe_b64encode(b"[1, 2]").decode(),
    base64.urlsafe_b64encode(b'["a", "b"]').decode(),
    base64.urlsafe_b64encode(b'{"offset": 100000000}').decode(),
    base64.urlsafe_b64encode(b"99999999999").decode(),
)


async def problem(
    api: Gateway, method: str, path: str, *, body: Any = None, params: dict | None = None
) -> ApiError:
    with pytest.raises(ApiError) as error:
        await api.request(method, path, json_body=body, params=params)
    assert isinstance(error.value.body, dict) and error.value.body["status"] == error.value.status, (
        error.value
    )
    return error.value


def fields(error: ApiError) -> list[str]:
    return [
        e["field"].split(".", 1)[1] if e["field"].startswith(("query.", "body.")) else e["field"]
        for e in error.body.get("errors", [])
    ]


async def test_numbers_out_of_range_are_422_naming_the_field(brand: BrandSetup) -> None:
    owner = brand.owner.api
    huge = await problem(owner, "GET", "/v1/approvals", params={"min_age_hours": "1e9"})
    assert huge.status == 422 and fields(huge) == ["min_age_hours"]
    assert (await owner.get("/v1/approvals", min_age_hours=24))["items"] == []  # a sane age still works

    for path, params, field in (
        ("/v1/approvals", {"limit": "100000"}, "limit"),
        ("/v1/audit-logs", {"limit": "-1"}, "limit"),
        ("/v1/analytics/posts", {"limit": "1e9"}, "limit"),
        ("/v1/analytics/summary", {"from": "0001-01-01", "to": "0001-01-05"}, "from"),
        ("/v1/analytics/timeseries", {"from": "9999-12-25", "to": "9999-12-31"}, "from"),
    ):
        error = await problem(owner, "GET", path, params=params)
        assert error.status == 422 and fields(error) == [field], (path, params, error)

    for body, field in (
        ({"metric": "likes", "target": 1e300}, "target"),
        ({"metric": "likes", "target": 10, "period": "year"}, "period"),
        ({"metric": "likes" * 100, "target": 10}, "metric"),
    ):
        error = await problem(owner, "POST", "/v1/analytics/goals", body=body)
        assert error.status == 422 and fields(error) == [field], (body, error)
    for body, field in (({"days": 10**12}, "days"), ({"posts_per_day": 10**9}, "posts_per_day")):
        error = await problem(owner, "POST", "/v1/analytics/plans", body=body)
        assert error.status == 422 and fields(error) == [field]

    job = await draft_and_submit(
        owner, brand.connection_id, text="Bounds", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    link = await problem(owner, "POST", f"/v1/approvals/{round_['id']}/links", body={"expires_in_hours": 1e9})
    assert link.status == 422 and fields(link) == ["expires_in_hours"]
    rule = await problem(
        owner,
        "POST",
        "/v1/escalation-rules",
        body={"name": "r", "levels": [{"after_hours": 1e12, "notify_roles": ["admin"]}]},
    )
    assert rule.status == 422 and fields(rule) == ["levels.0.after_hours"]
    await owner.get("/v1/escalation-rules")  # and the service is fine


async def test_goals_of_every_period_work_including_quarter(brand: BrandSetup) -> None:
    owner = brand.owner.api
    for period in ("day", "week", "month", "quarter"):
        goal = await owner.post(
            "/v1/analytics/goals", {"metric": "engagement", "target": 5, "period": period}
        )
        assert goal["period"] == period and goal["current_period"]["value"] == 0
    quarter = next(g for g in (await owner.get("/v1/analytics/goals"))["items"] if g["period"] == "quarter")
    start = quarter["current_period"]["start"]
    assert start[5:] in ("01-01", "04-01", "07-01", "10-01")
    assert (await owner.get(f"/v1/analytics/goals/{quarter['goal_id']}"))["period"] == "quarter"


@pytest.mark.parametrize("path", CURSORED)
async def test_a_cursor_the_api_did_not_issue_is_400(brand: BrandSetup, path: str) -> None:
    owner = brand.owner.api
    for cursor in NOT_OUR_CURSORS:
        error = await problem(owner, "GET", path, params={"cursor": cursor})
        assert error.status == 400, (path, cursor, error)
        assert fields(error) == ["cursor"]
    assert "items" in await owner.get(path)  # the same list without a cursor answers


async def test_a_review_decision_that_is_not_one_is_422(brand: BrandSetup, api: Gateway) -> None:
    owner = brand.owner.api
    job = await draft_and_submit(
        owner, brand.connection_id, text="Decide well", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    link = await owner.post(f"/v1/approvals/{round_['id']}/links", {})
    token_path = link["url"].removeprefix(api.base_urls[0])
    maybe = await problem(api, "POST", token_path, body={"decision": "maybe"})
    assert maybe.status == 422 and fields(maybe) == ["decision"]
    long = await problem(api, "POST", token_path, body={"decision": "approve", "comment": "x" * 6000})
    assert long.status == 422 and fields(long) == ["comment"]
    assert (await owner.get(f"/v1/approvals/{round_['id']}"))["status"] == "pending"  # nothing was decided
