"""Every link the system mails works through the gateway, at the one public base URL.

The mails are read where their recipients would read them: the platform's outgoing mail
goes to the test run's own mail server (`system.mailbox`, the outside world like the
sandbox). A GET of a link only shows what will happen (mail scanners prefetch links); the
change is a POST; an unsubscribe works one-click (RFC 8058) and per kind of mail.
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage

import httpx
import pytest

from aligned_testing.flows import draft_and_submit, job_in, pending_round
from aligned_testing.gateway_client import BrandSetup, eventually
from aligned_testing.mailbox import text_of
from aligned_testing.system import System

pytestmark = pytest.mark.e2e

HTML = {"accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}  # what a browser sends
JSON = {"accept": "application/json"}
ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"content-type": "application/x-www-form-urlencoded"},
}


async def mails_to(system: System, address: str, count: int = 1, *, subject: str = "") -> list[EmailMessage]:
    async def arrived():
        found = [m for m in system.mailbox.to(address) if subject in m["Subject"]]
        return found if len(found) >= count else None

    # The sender loop runs every few seconds in the test platform.
    return await eventually(arrived, timeout_s=60, what=f"{count} mail(s) '{subject}' to {address}")


def link_in(message: EmailMessage, path: str) -> str:
    return re.search(rf"(https?://\S+{re.escape(path)}\S*)", text_of(message)).group(1)


async def settings_of(brand: BrandSetup, address: str) -> dict:
    return await brand.owner.api.get(f"/v1/client-settings/{address}")


async def test_a_mailed_review_link_shows_the_round_on_get_and_decides_on_post(
    brand: BrandSetup, system: System
) -> None:
    owner, gateway = brand.owner.api, system.url("gateway")
    text = f"Spring launch {uuid.uuid4().hex[:6]}"
    job = await draft_and_submit(owner, brand.connection_id, text=text, requires_approval=True, due_in_s=3600)
    round_ = await pending_round(owner, job["job_id"])
    carol = f"carol-{uuid.uuid4().hex[:8]}@client.example.com"
    await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": carol})

    [mail] = await mails_to(system, carol)
    url = link_in(mail, "/review/")
    assert url.startswith(f"{gateway}/review/")  # the one public base URL: the gateway

    async with httpx.AsyncClient(timeout=30) as browser:  # no account, no token: the link is the authority
        for _ in range(2):  # a scanner's prefetch, then the person: a GET decides nothing
            page = await browser.get(url, headers=HTML)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert text in page.text and 'method="post"' in page.text
            # The token is the credential: not cached, not leaked as a Referer, the form not framed elsewhere.
            assert (
                page.headers["referrer-policy"] == "no-referrer"
                and page.headers["cache-control"] == "no-store"
            )
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        view = (await browser.get(url, headers=JSON)).json()
        assert view["status"] == "pending" and view["approval_id"] == round_["id"]
        assert (await owner.get(f"/v1/approvals/{round_['id']}"))["status"] == "pending"

        # The page's form posts back to the same URL.
        decided = await browser.post(url, data={"decision": "approve", "comment": "Lovely"}, headers=HTML)
        assert decided.status_code == 200 and "approved" in decided.text

        # Used: a clear page for a person, problem+json for a program; never an error body.
        used = await browser.get(url, headers=HTML)
        assert used.status_code == 410 and used.headers["content-type"].startswith("text/html")
        assert "already used" in used.text
        used_json = await browser.post(url, json={"decision": "reject"}, headers=JSON)
        assert (
            used_json.status_code == 410 and used_json.headers["content-type"] == "application/problem+json"
        )
        assert used_json.json()["title"] == "Review link used"

    scheduled = await job_in(owner, job["job_id"], ("scheduled",))
    assert scheduled["approved"] is True


async def test_revoked_expired_and_forged_review_links_show_a_clear_page(
    brand: BrandSetup, system: System
) -> None:
    owner = brand.owner.api
    job = await draft_and_submit(
        owner, brand.connection_id, text="Links that end", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    revoked = await owner.post(f"/v1/approvals/{round_['id']}/links", {})
    short = await owner.post(
        f"/v1/approvals/{round_['id']}/links", {"expires_in_hours": 0.0003}
    )  # about a second
    await owner.request("DELETE", f"/v1/approvals/{round_['id']}/links/{revoked['id']}")
    assert revoked["url"].startswith(system.url("gateway"))

    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(revoked["url"], headers=HTML)
        assert page.status_code == 410 and "Review link revoked" in page.text

        async def expired():
            answer = await browser.get(short["url"], headers=HTML)
            return answer if answer.status_code == 410 else None

        page = await eventually(expired, timeout_s=30, what="the short link to expire")
        assert page.headers["content-type"].startswith("text/html") and "Review link expired" in page.text
        forged = await browser.get(f"{system.url('gateway')}/review/not-a-token", headers=HTML)
        assert forged.status_code == 404 and forged.headers["content-type"].startswith("text/html")
        refused = await browser.post(short["url"], json={"decision": "approve"})
        assert refused.status_code == 410 and refused.json()["title"] == "Review link expired"
    assert (await owner.get(f"/v1/approvals/{round_['id']}"))["status"] == "pending"


async def test_the_mailed_approval_and_unsubscribe_links_work_and_unsubscribing_is_per_kind(
    brand: BrandSetup,
    system: System,
) -> None:
    owner, client, gateway = brand.owner.api, brand.client, system.url("gateway")
    # A first level that reminds the client one test "hour" (2 s) after a round opens.
    await owner.post(
        "/v1/escalation-rules",
        {"name": "remind", "levels": [{"after_hours": 0.5, "notify_roles": ["client"]}]},
    )
    job = await draft_and_submit(
        owner, brand.connection_id, text="Mail me", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])

    [asked] = await mails_to(system, client.email, subject="Approval requested")
    # The approval link opens the round in the API, through the gateway, for the signed-in member.
    approval_link = link_in(asked, "/v1/approvals/")
    assert approval_link == f"{gateway}/v1/approvals/{round_['id']}"
    assert (await client.api.get(approval_link.removeprefix(gateway)))["id"] == round_["id"]

    # RFC 8058: List-Unsubscribe names the link, List-Unsubscribe-Post says a POST to it is one click.
    assert asked["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(\S+)>", asked["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(f"{gateway}/unsubscribe/") and unsubscribe in text_of(asked)

    async with httpx.AsyncClient(timeout=30) as mail_client:
        for _ in range(2):  # prefetches change nothing
            page = await mail_client.get(unsubscribe, headers=HTML)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "Stop approval requests" in page.text and "Stop all e-mails" in page.text
        before = await settings_of(brand, client.email)
        assert before["subscribed"] is True and before["unsubscribed_types"] == []

        clicked = await mail_client.post(
            unsubscribe, **ONE_CLICK
        )  # the mail client's one-click POST, no page
        assert clicked.status_code == 200, clicked.text
        assert clicked.json()["unsubscribed_types"] == ["approval_requested"]
        again = await mail_client.post(unsubscribe, **ONE_CLICK)
        assert again.json()["unsubscribed_types"] == ["approval_requested"]  # idempotent

        # Reminders still come (only approval requests were stopped) ...
        [reminder] = await mails_to(system, client.email, subject="Reminder")
        # ... and the next round's approval request to this client is held back.
        second = await draft_and_submit(
            owner, brand.connection_id, text="Mail me again", requires_approval=True, due_in_s=3600
        )
        second_round = await pending_round(owner, second["job_id"])

        async def suppressed():
            mails = (await owner.get(f"/v1/approvals/{second_round['id']}"))["notifications"]
            mine = [
                n
                for n in mails
                if n["to_address"] == client.email.lower() and n["kind"] == "approval_requested"
            ]
            return mine[0] if mine and mine[0]["status"] != "pending" else None

        assert (await eventually(suppressed, timeout_s=60, what="the second request to settle"))[
            "status"
        ] == "suppressed"

        # The reminder's own link stops reminders, or (its page's second button) every mail.
        stop_reminders = re.fullmatch(r"<(\S+)>", reminder["List-Unsubscribe"]).group(1)
        everything = await mail_client.post(stop_reminders, data={"scope": "all"}, headers=HTML)
        assert everything.status_code == 200 and "will get no more e-mails from us" in everything.text
    after = await settings_of(brand, client.email)
    assert after["subscribed"] is False and after["unsubscribed_types"] == ["approval_requested"]
