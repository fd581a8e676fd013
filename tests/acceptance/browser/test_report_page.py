"""A client opens the report link in a real browser: the charts draw the analytics API's numbers,
the page passes axe-core, prints to PDF with its print stylesheet, and a withdrawn link is a
clear page. Through the gateway only; the figures are real (a sandbox post, measured)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from aligned_testing.flows import measured_post
from aligned_testing.gateway_client import BrandSetup, SandboxControl

from .browser_helpers import accessibility_violations, screenshots

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def around_today() -> dict[str, str]:
    today = dt.datetime.now(dt.UTC).date()
    return {"from": str(today - dt.timedelta(days=6)), "to": str(today + dt.timedelta(days=1))}


async def test_a_client_reads_the_report_and_its_charts_show_the_numbers(
    brand: BrandSetup, sandbox: SandboxControl, page: Page, tmp_path: Path
) -> None:
    owner = brand.owner.api
    text = f"Summer menu {uuid.uuid4().hex[:6]}: three new dishes, one old favourite"
    await measured_post(owner, sandbox, brand.connection_id, text)
    await owner.post("/v1/analytics/goals", {"metric": "likes", "target": 50, "period": "month"})
    await owner.post("/v1/analytics/goals", {"metric": "engagement", "target": 400, "period": "quarter"})
    range_ = around_today()
    link = await owner.post("/v1/reports/links", {**range_, "language": "en"})

    opened = await page.goto(brand.owner.api.base_urls[0] + link["url"])
    assert opened is not None and opened.status == 200
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Report:")
    series = await owner.get("/v1/analytics/timeseries", metric="engagement", platform="sandbox", **range_)
    expected = [(p["bucket_start"], p["value"]) for p in series["points"]]
    chart = page.get_by_role("img", name="Engagement per day on Sandbox")
    await expect(chart).to_be_visible()
    bars = await chart.locator("rect[data-bucket]").evaluate_all(
        "rects => rects.map(r => [r.dataset.bucket, Number(r.dataset.value), Number(r.getAttribute('height'))])"
    )
    assert [(day, value) for day, value, _ in bars] == expected
    tallest = max(bars, key=lambda bar: bar[1])
    assert tallest[1] > 0 and tallest[2] > 0  # the day with the post's engagement is drawn
    # The table beside the chart says the same, for screen readers and print.
    rows = await page.locator("table.trend-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.bucket, Number(r.dataset.value)])"
    )
    assert [tuple(r) for r in rows] == expected
    await expect(page.locator(".post-text").first).to_have_text(text)
    await expect(page.locator(".goals li")).to_have_count(2)
    assert await accessibility_violations(page) == []
    await screenshots(page, "report")

    # Printing: the print stylesheet drops the screen-only parts; the browser makes a PDF.
    await page.emulate_media(media="print")
    await expect(page.locator(".print-hint")).to_be_hidden()
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    (tmp_path / "report.pdf").write_bytes(pdf)
    await page.emulate_media(media="screen")

    await owner.request("DELETE", f"/v1/reports/links/{link['link_id']}")
    gone = await page.goto(brand.owner.api.base_urls[0] + link["url"])
    assert gone is not None and gone.status == 410
    await expect(page.get_by_role("heading", level=1)).to_have_text("This report link was withdrawn")
    await expect(page.get_by_role("alert")).to_contain_text("Ask them for a new link")
    assert await accessibility_violations(page) == []
    await screenshots(page, "report-revoked")
