"""Client report links on the in-memory fakes: who may make them, what is stored (the token's
hash only), and which links still open; the page rendered from a report, and the charts' geometry."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi import Request

from aligned_analytics.domain.charts import bar_chart, nice_maximum
from aligned_analytics.domain.metrics import InvalidQuery
from aligned_analytics.domain.report_links import (
    ReportLinkExpired,
    ReportLinkNotFound,
    ReportLinkRevoked,
    require_usable,
    token_hash,
)
from aligned_analytics.entrypoints import report_page
from aligned_analytics.service_layer import client_report
from aligned_common.identity import Identity
from aligned_common.problems import Problem, problem_of

from .fakes import FakeUnitsOfWork

pytestmark = pytest.mark.unit

BRAND, OTHER, TENANT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
OWNER = Identity(TENANT, BRAND, "olga", "owner")
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
STRANGER = Identity(TENANT, OTHER, "mallory", "owner")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ask(**changes: Any) -> client_report.LinkRequest:
    fields: dict[str, Any] = {
        "first_day": date(2026, 2, 1),
        "last_day": date(2026, 2, 28),
        "platforms": [],
        "goal_ids": None,
        "language": "de",
        "expires_in_days": 7,
    }
    return client_report.LinkRequest(**(fields | changes))


async def make(uows: FakeUnitsOfWork, **changes: Any) -> dict[str, Any]:
    return await client_report.create_link(uows, OWNER, ask(**changes), max_days=366, now=NOW)


async def test_a_link_is_shown_once_and_stored_as_its_hash() -> None:
    uows = FakeUnitsOfWork()
    made = await make(uows, platforms=["sandbox", "mastodon", "sandbox"])
    token = made["url"].removeprefix("/report/")
    assert len(token) >= 40 and made["from"] == "2026-02-01" and made["platforms"] == ["mastodon", "sandbox"]
    [stored] = uows.store.report_links.values()
    assert stored["token_hash"] == token_hash(token) and token not in str(stored)
    [listed] = await client_report.list_links(uows, OWNER)
    assert "url" not in listed and "token_hash" not in listed and listed["link_id"] == made["link_id"]


async def test_only_owners_and_admins_share_reports() -> None:
    with pytest.raises(Problem) as refused:
        await client_report.create_link(FakeUnitsOfWork(), EDITOR, ask(), max_days=366, now=NOW)
    assert refused.value.status == 403


async def test_unknown_platforms_and_other_brands_goals_are_refused_by_field() -> None:
    uows = FakeUnitsOfWork()
    with pytest.raises(InvalidQuery) as platform:
        await make(uows, platforms=["sandbox", "myspace"])
    assert platform.value.field == "platforms.1"
    uows.store.goals.append({"goal_id": uuid.uuid4(), "brand_id": OTHER, "archived_at": None})
    with pytest.raises(InvalidQuery) as goal:
        await make(uows, goal_ids=[uows.store.goals[0]["goal_id"]])
    assert goal.value.field == "goal_ids.0" and not uows.store.report_links


async def test_another_brand_cannot_revoke_a_link_and_revoking_ends_it() -> None:
    uows = FakeUnitsOfWork()
    made = await make(uows)
    link_id = uuid.UUID(made["link_id"])
    with pytest.raises(ReportLinkNotFound):
        await client_report.revoke_link(uows, STRANGER, link_id, now=NOW)
    assert uows.store.report_links[link_id]["revoked_at"] is None
    await client_report.revoke_link(uows, OWNER, link_id, now=NOW)
    await client_report.revoke_link(uows, OWNER, link_id, now=NOW + timedelta(hours=1))  # twice: no change
    assert uows.store.report_links[link_id]["revoked_at"] == NOW
    token = made["url"].removeprefix("/report/")
    with pytest.raises(ReportLinkRevoked) as gone:
        await client_report.report(uows, uows, token, now=NOW)
    assert problem_of(gone.value).status == 410 and gone.value.extra["language"] == "de"


def test_which_links_open() -> None:
    link = {"revoked_at": None, "expires_at": NOW, "language": "en"}
    with pytest.raises(ReportLinkNotFound):
        require_usable(None, NOW)
    with pytest.raises(ReportLinkExpired):
        require_usable(link, NOW)
    assert require_usable(link, NOW - timedelta(seconds=1)) is link


def test_bars_scale_to_a_round_maximum() -> None:
    assert [nice_maximum(v) for v in (0, 0.4, 3, 10, 11, 420)] == [1.0, 0.5, 5.0, 10.0, 20.0, 500.0]
    chart = bar_chart([("2026-02-01", 5), ("2026-02-02", 0), ("2026-02-03", 10)])
    tall, empty, tallest = chart.bars
    assert chart.maximum == 10 and empty.height == 0 and tallest.height == 2 * tall.height
    assert tallest.y + tallest.height == chart.baseline and tall.x < empty.x < tallest.x


def _request(accept: str = "text/html", language: str = "") -> Request:
    headers = [(b"accept", accept.encode()), (b"accept-language", language.encode())]
    return Request(
        {"type": "http", "method": "GET", "path": "/report/x", "headers": headers, "query_string": b""}
    )


VIEW: dict[str, Any] = {
    "language": "de",
    "range": {"from": "2026-02-01", "to": "2026-02-03", "time_zone": "Europe/Berlin"},
    "chosen_platforms": ["sandbox"],
    "expires_at": "2026-03-09T09:00:00+00:00",
    "totals": {
        "impressions": 1200.0,
        "likes": 30.0,
        "shares": 4.0,
        "comments": 6.0,
        "quotes": 0.0,
        "followers": 2.0,
    },
    "engagement_rate": 0.0333,
    "platforms": [
        {
            "platform": "sandbox",
            "totals": {m: {"value": 3.0, "previous": 1.0, "change_pct": 200.0} for m in ("likes", "posts")},
            "engagement_rate": 0.03,
            "trend": {
                "metric": "engagement",
                "bucket": "day",
                "points": [
                    {"bucket_start": f"2026-02-0{d}", "value": v} for d, v in ((1, 12.0), (2, 0.0), (3, 28.0))
                ],
            },
        }
    ],
    "top_posts": [
        {
            "platform": "sandbox",
            "published_at": "2026-02-01T10:00:00+00:00",
            "text": "Spring <b>launch</b>",
            "media_count": 2,
            "metrics": {"impressions": 900.0, "likes": 20.0, "shares": 0.0, "comments": 1.0, "quotes": 0.0},
            "engagement": 21.0,
        }
    ],
    "goals": [
        {
            "goal_id": str(uuid.uuid4()),
            "metric": "likes",
            "target": 100.0,
            "period": "month",
            "platform": None,
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "value": 30.0,
            "progress": 0.3,
        }
    ],
}


def test_the_page_draws_the_numbers_in_the_links_language_under_the_csp() -> None:
    page = report_page.report_page(VIEW)
    html = page.body.decode()
    assert page.status_code == 200 and "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert (
        '<html lang="de">' in html
        and "Plattformen: Sandbox" in html
        and "Interaktionen pro Tag auf Sandbox" in html
    )
    bars = re.findall(r'<rect [^>]*data-bucket="([\d-]+)" data-value="([\d.]+)"', html)
    assert bars == [("2026-02-01", "12.0"), ("2026-02-02", "0.0"), ("2026-02-03", "28.0")]
    rows = re.findall(r'<tr data-bucket="([\d-]+)" data-value="([\d.]+)">', html)
    assert rows == bars  # the table says what the chart draws
    assert "1.200" in html  # German digits
    assert "Spring &lt;b&gt;launch&lt;/b&gt;" in html and "2 Mediendatei" in html
    assert "30 von 100 (30%)" in html
    assert " style=" not in html and "<script" not in html  # nothing the CSP would block


def test_a_gone_link_is_a_page_in_the_links_language() -> None:
    problem = problem_of(ReportLinkExpired("expired", language="de"))
    page = report_page.problem_page(_request(language="en"), problem)
    assert page.status_code == 410 and "Dieser Berichtslink ist abgelaufen" in page.body.decode()
    unknown = report_page.problem_page(
        _request(language="de-DE,de;q=0.9"), problem_of(ReportLinkNotFound("x"))
    )
    assert unknown.status_code == 404 and "Diesen Berichtslink gibt es nicht" in unknown.body.decode()
