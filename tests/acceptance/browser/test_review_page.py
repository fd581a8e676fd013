"""A client reviews a post in a real browser, from the link in the e-mail they received.

Through the gateway only: the owner's API sets things up, Mailpit holds the mail, and
Chromium clicks what a client would click. Each page passes axe-core's serious/critical rules.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from aligned_testing.flows import draft_and_submit, job_in, pending_round
from aligned_testing.gateway_client import BrandSetup, eventually
from aligned_testing.mailbox import text_of
from aligned_testing.system import System

from .browser_helpers import accessibility_violations, screenshots

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def mailed_review_link(brand: BrandSetup, system: System, text: str, recipient: str) -> tuple[str, str]:
    """A job waiting for approval and the review link mailed to `recipient`: (round id, url)."""
    owner = brand.owner.api
    job = await draft_and_submit(owner, brand.connection_id, text=text, requires_approval=True, due_in_s=3600)
    round_ = await pending_round(owner, job["job_id"])
    await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": recipient})

    async def arrived():
        return next((m for m in system.mailbox.to(recipient) if "/review/" in text_of(m)), None)

    mail = await eventually(arrived, timeout_s=60, what=f"the review mail to {recipient}")
    url = re.search(r"(https?://\S+/review/\S+)", text_of(mail)).group(1)
    return round_["id"], url


async def test_a_client_approves_from_the_mailed_link_and_the_post_is_scheduled(
    brand: BrandSetup, system: System, page: Page
) -> None:
    owner = brand.owner.api
    text = f"Spring launch {uuid.uuid4().hex[:6]}: fresh flowers for everyone"
    client = f"carol-{uuid.uuid4().hex[:8]}@client.example.com"
    # The client reads German on Berlin's clock (their mail settings); the page follows.
    await owner.request(
        "PUT", f"/v1/client-settings/{client}", json_body={"language": "de", "time_zone": "Europe/Berlin"}
    )
    round_id, url = await mailed_review_link(brand, system, text, client)

    opened = await page.goto(url)
    assert opened is not None and opened.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Beitrag prüfen \(Runde 1\)"))
    await expect(page.locator(".post-text").first).to_have_text(text)
    await expect(page.get_by_text("Geplant für")).to_contain_text("(Europe/Berlin)")
    assert await accessibility_violations(page) == []
    await screenshots(page, "review")

    await page.get_by_role("button", name="Freigeben").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank")
    await expect(page.get_by_role("status")).to_contain_text("freigegeben")
    assert await accessibility_violations(page) == []
    await screenshots(page, "review-decided")

    job = (await owner.get(f"/v1/approvals/{round_id}"))["job_id"]
    assert (await job_in(owner, job, ("scheduled",)))["approved"] is True
    # The audit row names this browser: its user agent (and the address the gateway saw).
    agent = await page.evaluate("navigator.userAgent")

    async def audited():
        rows = (await owner.get("/v1/audit-logs", action="approval.approved", entity_id=round_id))["items"]
        return rows[0] if rows else None

    entry = await eventually(audited, timeout_s=60, what="the decision's audit row")
    assert entry["user_agent"] == agent and entry["ip_address"] == "127.0.0.1"

    # The link is used now: reopening it is a clear page, not an error body (in the browser's
    # language: an unusable link's page reads no client settings).
    again = await page.goto(url)
    assert again is not None and again.status == 410
    await expect(page.get_by_role("alert")).to_contain_text("already used")


async def test_requesting_changes_needs_a_comment_in_the_form_and_on_the_server(
    brand: BrandSetup, system: System, page: Page
) -> None:
    owner = brand.owner.api
    round_id, url = await mailed_review_link(
        brand, system, f"Needs work {uuid.uuid4().hex[:6]}", f"dora-{uuid.uuid4().hex[:8]}@client.example.com"
    )
    await page.goto(url)
    comment = page.get_by_label("What should change?")
    await page.get_by_role("button", name="Request changes").click()
    # The browser refuses the empty form: nothing is sent, the field says why.
    assert await comment.evaluate("field => field.validity.valueMissing") is True
    assert page.url == url
    assert (await owner.get(f"/v1/approvals/{round_id}"))["status"] == "pending"

    # A form that skips the browser's check (an old browser, a script) is refused by the server.
    await comment.evaluate("field => field.removeAttribute('required')")
    await comment.fill("   ")
    await page.get_by_role("button", name="Request changes").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("A comment is needed")
    assert (await owner.get(f"/v1/approvals/{round_id}"))["status"] == "pending"
    assert await accessibility_violations(page) == []

    await page.get_by_role("link", name="Back to the post").click()
    await page.get_by_label("What should change?").fill("A brighter photo, please")
    await page.get_by_role("button", name="Request changes").click()
    await expect(page.get_by_role("status")).to_contain_text("sent back for changes")
    decided = await owner.get(f"/v1/approvals/{round_id}")
    assert (
        decided["status"] == "changes_requested" and decided["decision_comment"] == "A brighter photo, please"
    )


async def test_an_expired_link_shows_a_clear_page(brand: BrandSetup, page: Page) -> None:
    owner = brand.owner.api
    job = await draft_and_submit(
        owner, brand.connection_id, text="Too late", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    short = await owner.post(f"/v1/approvals/{round_['id']}/links", {"expires_in_hours": 0.0003})  # ~1 s

    async def expired():
        answer = await page.goto(short["url"])
        return answer if answer is not None and answer.status == 410 else None

    await eventually(expired, timeout_s=30, what="the short link to expire")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Review link expired")
    await expect(page.get_by_role("alert")).to_contain_text("ask your agency for a new one")
    assert await page.locator("form").count() == 0
    assert await accessibility_violations(page) == []
    await screenshots(page, "review-expired")
