"""An owner shares a read-only client report by a secret link: the page shows the same numbers
as the analytics API for the same range, only its brand's managers see or revoke the link, and a
revoked, expired or unknown link is a clear page (410/404), not a JSON body. Through the gateway."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html import unescape
from typing import Any

import pytest

from aligned_testing.flows import measured_post, onboard_brand
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    SandboxControl,
    add_member,
    eventually,
)

pytestmark = pytest.mark.e2e

HTML = {"accept": "text/html", "accept-language": "en"}


def around_today() -> dict[str, str]:
    # Two days either side: the sandbox's clock was moved on and may have crossed midnight.
    today = dt.datetime.now(dt.UTC).date()
    return {"from": str(today - dt.timedelta(days=2)), "to": str(today + dt.timedelta(days=2))}


def page_figures(html: str) -> dict[str, Any]:
    """What the page shows, read from the data attributes the template writes beside each number."""
    totals = dict(re.findall(r'<li data-metric="([a-z_]+)" data-value="([\d.]*)">', html))
    platform_rows = re.findall(r'<tr data-metric="([a-z]+)" data-value="([\d.]+)">', html)
    trend = re.findall(r'<tr data-bucket="([\d-]+)" data-value="([\d.]+)">', html)
    return {"totals": totals, "platform": dict(platform_rows), "trend": trend}


async def make_link(owner: Gateway, **body: Any) -> dict[str, Any]:
    return await owner.post("/v1/reports/links", {**around_today(), "language": "en", **body})


async def test_the_shared_report_shows_the_analytics_apis_numbers(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    text = f"Report me {uuid.uuid4().hex[:6]}: <spring> & sun"
    post = await measured_post(owner, sandbox, brand.connection_id, text)
    goal = await owner.post("/v1/analytics/goals", {"metric": "likes", "target": 1000, "period": "month"})
    link = await make_link(owner, platforms=["sandbox"], goal_ids=[goal["goal_id"]])
    assert link["url"].startswith("/report/") and link["platforms"] == ["sandbox"]
    range_ = around_today()

    async def agreeing() -> tuple[str, dict, dict, dict] | None:
        # A routine sync may land between two reads: compare only while the API did not move.
        summary = await owner.get("/v1/analytics/summary", platform="sandbox", **range_)
        series = await owner.get(
            "/v1/analytics/timeseries", metric="engagement", platform="sandbox", **range_
        )
        answer = await owner.fetch(link["url"], headers=HTML)
        assert answer.status_code == 200, answer.text
        again = await owner.get("/v1/analytics/summary", platform="sandbox", **range_)
        return (answer.text, summary, series, dict(answer.headers)) if again == summary else None

    html, summary, series, headers = await eventually(agreeing, timeout_s=60, what="a steady report")
    shown = page_figures(html)
    for metric in ("impressions", "likes", "shares", "comments"):
        assert float(shown["totals"][metric]) == summary["totals"][metric]["value"], metric
        assert float(shown["platform"][metric]) == summary["totals"][metric]["value"], metric
    assert float(shown["totals"]["likes"]) >= post["metrics"]["likes"] > 0
    assert [(d, float(v)) for d, v in shown["trend"]] == [
        (p["bucket_start"], p["value"]) for p in series["points"]
    ]
    bars = re.findall(r'<rect [^>]*data-bucket="([\d-]+)" data-value="([\d.]+)"', html)
    assert bars == shown["trend"]  # the chart draws what its table says
    posts = re.search(r'<section aria-labelledby="posts-heading">.*?</section>', html, re.S)
    assert posts is not None and text in unescape(posts.group(0)), posts and posts.group(0)  # escaped there
    assert f'data-goal="{goal["goal_id"]}"' in html
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in headers["content-security-policy"]
    # Without a browser's Accept the same link answers the report as JSON: the same figures.
    as_json = (await owner.fetch(link["url"])).json()
    assert (
        as_json["platforms"][0]["platform"] == "sandbox" and as_json["goals"][0]["goal_id"] == goal["goal_id"]
    )


async def test_only_the_brands_managers_see_and_revoke_its_links(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    link = await make_link(owner)
    other = await onboard_brand(api, sandbox.base_url, label="other", connect=False)
    stranger = other.owner.api
    assert link["link_id"] not in {
        item["link_id"] for item in (await stranger.get("/v1/reports/links"))["items"]
    }
    with pytest.raises(ApiError) as revoked:
        await stranger.request("DELETE", f"/v1/reports/links/{link['link_id']}")
    assert revoked.value.status == 404  # another brand's link does not exist for it
    with pytest.raises(ApiError) as unknown:
        await owner.request("DELETE", f"/v1/reports/links/{uuid.uuid4()}")
    assert unknown.value.status == 404
    editor = await add_member(
        brand, user_id=f"ed-{uuid.uuid4().hex[:6]}", email="ed@example.com", role="editor"
    )
    for member in (brand.client, editor):
        with pytest.raises(ApiError) as refused:
            await member.api.post("/v1/reports/links", around_today())
        assert refused.value.status == 403
    assert (await owner.fetch(link["url"], headers=HTML)).status_code == 200
    listed = {item["link_id"]: item for item in (await owner.get("/v1/reports/links"))["items"]}
    assert listed[link["link_id"]]["revoked_at"] is None and "url" not in listed[link["link_id"]]


async def test_a_revoked_or_unknown_link_is_a_clear_page(brand: BrandSetup) -> None:
    owner = brand.owner.api
    link = await make_link(owner, language="de")
    await owner.request("DELETE", f"/v1/reports/links/{link['link_id']}")
    gone = await owner.fetch(link["url"], headers=HTML)
    assert gone.status_code == 410 and gone.headers["content-type"].startswith("text/html")
    assert "zurückgezogen" in gone.text and 'lang="de"' in gone.text  # the link's language
    unknown = await owner.fetch("/report/" + "x" * 43, headers=HTML)
    assert unknown.status_code == 404 and "does not exist" in unknown.text
    problem = await owner.fetch(link["url"])  # not a browser: a problem
    assert problem.status_code == 410 and problem.headers["content-type"] == "application/problem+json"
    listed = {item["link_id"]: item for item in (await owner.get("/v1/reports/links"))["items"]}
    assert listed[link["link_id"]]["revoked_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "from"),
        ({"language": "fr"}, "language"),
        ({"platforms": ["sandbox", "friendster"]}, "platforms.1"),
        ({"goal_ids": [str(uuid.uuid4())]}, "goal_ids.0"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"shared_with": "everyone"}, "shared_with"),
    ],
)
async def test_a_bad_link_request_is_refused_naming_the_field(
    brand: BrandSetup, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await brand.owner.api.post("/v1/reports/links", body)
    assert refused.value.status == 422
    assert field in {e["field"] for e in refused.value.body["errors"]}
    assert (await brand.owner.api.get("/v1/reports/links"))["items"] == []


async def test_the_stylesheet_is_served_and_the_page_needs_no_login(api: Gateway, brand: BrandSetup) -> None:
    link = await make_link(brand.owner.api)
    anonymous = api.as_("")
    page = await anonymous.fetch(link["url"], headers=HTML)
    assert page.status_code == 200 and '<link rel="stylesheet" href="/report/assets/report.css">' in page.text
    css = await anonymous.fetch("/report/assets/report.css")
    assert (
        css.status_code == 200
        and css.headers["content-type"].startswith("text/css")
        and "@media print" in css.text
    )
