"""A client stops one kind of mail from the page its e-mail links to, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from aligned_testing.flows import draft_and_submit, pending_round
from aligned_testing.gateway_client import BrandSetup, eventually
from aligned_testing.system import System

from .browser_helpers import accessibility_violations, screenshots

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_the_unsubscribe_page_lists_each_kind_and_one_button_stops_the_mail_s_kind(
    brand: BrandSetup, system: System, page: Page
) -> None:
    owner, client = brand.owner.api, brand.client
    job = await draft_and_submit(
        owner, brand.connection_id, text="Mail me", requires_approval=True, due_in_s=3600
    )
    await pending_round(owner, job["job_id"])

    async def asked():
        return next(
            (m for m in system.mailbox.to(client.email) if "Approval requested" in m["Subject"]), None
        )

    mail = await eventually(asked, timeout_s=60, what="the approval request to the client")
    url = re.fullmatch(r"<(\S+)>", mail["List-Unsubscribe"]).group(1)

    opened = await page.goto(url)
    assert opened is not None and opened.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Unsubscribe {client.email.lower()}")
    kinds = page.locator(".kinds li")
    await expect(kinds).to_have_count(7)  # every kind of mail, each with its state
    await expect(kinds.filter(has_text="approval requests")).to_contain_text("subscribed")
    assert await accessibility_violations(page) == []
    await screenshots(page, "unsubscribe")
    settings = await owner.get(f"/v1/client-settings/{client.email}")
    assert settings["unsubscribed_types"] == []  # opening the page changed nothing

    await page.get_by_role("button", name="Stop approval requests").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"{client.email.lower()} will get no more approval requests."
    )
    await screenshots(page, "unsubscribed")
    settings = await owner.get(f"/v1/client-settings/{client.email}")
    assert settings["subscribed"] is True and settings["unsubscribed_types"] == ["approval_requested"]

    await page.goto(url)  # the page now shows it stopped
    await expect(page.locator(".kinds li").filter(has_text="approval requests")).to_contain_text("stopped")
