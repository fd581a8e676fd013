"""Mail: preferences and unsubscribes are respected; a failed send is retried, never blocking."""

from __future__ import annotations

import re
import uuid

import pytest
from approval_helpers import (
    Brand,
    EventSender,
    add_members,
    approval_service,
    body_of,
    eventually,
    job_created,
    pending_round,
    service_settings,
    smtp_server,
)

from aligned_approval.domain.preferences import EmailPreferences
from aligned_testing.service import free_port

pytestmark = pytest.mark.integration

RITA, RUTH, ALEX = "rita@client.example.com", "ruth@client.example.com", "alex@agency.example.com"


def unsubscribe_path(message) -> str:
    """The link of the mail's List-Unsubscribe header, which is also the one in its footer."""
    header = re.fullmatch(r"<http://gateway\.test(/unsubscribe/\S+)>", message["List-Unsubscribe"]).group(1)
    assert f"http://gateway.test{header}" in body_of(message)
    return header


ONE_CLICK = {
    "content": b"List-Unsubscribe=One-Click",
    "headers": {"content-type": "application/x-www-form-urlencoded"},
}


async def notification_statuses(http, brand: Brand, approval_id: str) -> dict[str, str]:
    detail = (await http.get(f"/v1/approvals/{approval_id}", headers=brand.headers("a", "admin"))).json()
    return {f"{n['kind']}:{n['to_address']}": n["status"] for n in detail["notifications"]}


async def test_unsubscribed_client_gets_no_mail(infra, topics, scratch_schema, smtp):
    inbox, port = smtp
    brand = Brand()
    admin = brand.headers("ada", "admin")
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        await add_members(
            events,
            http,
            brand,
            {"rita": (RITA, "approver"), "ruth": (RUTH, "client"), "alex": (ALEX, "editor")},
        )
        first_job, second_job = uuid.uuid4(), uuid.uuid4()
        await events.send(job_created(first_job), brand)

        async def both_asked() -> bool:
            return bool(inbox.to(RITA) and inbox.to(RUTH))

        await eventually(both_asked)
        rita_link = unsubscribe_path(inbox.to(RITA)[0])
        assert inbox.to(RITA)[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
        for _ in range(2):  # a GET (a mail scanner's prefetch) shows what would happen and changes nothing
            preview = await http.get(rita_link)
            assert preview.status_code == 200
            assert (
                preview.json()["kind"] == "approval_requested" and preview.json()["unsubscribed_types"] == []
            )
        first_answer = await http.post(rita_link, **ONE_CLICK)
        second_answer = await http.post(rita_link, **ONE_CLICK)  # idempotent: same answer
        assert first_answer.status_code == second_answer.status_code == 200, first_answer.text
        assert first_answer.json() == second_answer.json()
        assert first_answer.json()["unsubscribed"] is True and first_answer.json()["scope"] == "kind"
        rita = (await http.get(f"/v1/client-settings/{RITA}", headers=admin)).json()
        assert rita["unsubscribed_types"] == ["approval_requested"] and rita["subscribed"] is True
        # The author has turned off "decided" mails.
        turned_off = await http.put(
            f"/v1/client-settings/{ALEX}", headers=admin, json={"preferences": {"decided": False}}
        )
        assert turned_off.json()["preferences"] == {**EmailPreferences().model_dump(), "decided": False}

        await events.send(job_created(second_job), brand)
        second = await pending_round(http, brand, second_job)
        decided = await http.post(
            f"/v1/approvals/{second['id']}/decision", headers=admin, json={"decision": "approve"}
        )
        assert decided.status_code == 200

        async def settled() -> dict | None:
            statuses = await notification_statuses(http, brand, second["id"])
            return statuses if "pending" not in statuses.values() and len(statuses) == 3 else None

        assert await eventually(settled) == {
            f"approval_requested:{RITA}": "suppressed",
            f"approval_requested:{RUTH}": "sent",
            f"decided:{ALEX}": "suppressed",
        }
        assert len(inbox.to(RITA)) == 1 and len(inbox.to(RUTH)) == 2 and inbox.to(ALEX) == []
        assert "List-Unsubscribe" in inbox.to(RUTH)[0]

        # Revoking Ruth's tokens makes the link in her earlier mails useless.
        ruth_link = unsubscribe_path(inbox.to(RUTH)[0])
        revoked = await http.delete(f"/v1/client-settings/{RUTH}/unsubscribe-tokens", headers=admin)
        assert revoked.status_code == 204
        assert (await http.get(ruth_link)).status_code == 410
        assert (await http.post(ruth_link, **ONE_CLICK)).status_code == 410
        assert (await http.get(f"/v1/client-settings/{RUTH}", headers=admin)).json()["subscribed"] is True
        assert (await http.get("/unsubscribe/not-a-token")).status_code == 404
        page = await http.get("/unsubscribe/not-a-token", headers={"accept": "text/html"})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        # The settings' own link (no kind) stops every mail; "kind" makes no sense there.
        fresh = (await http.get(f"/v1/client-settings/{RUTH}", headers=admin)).json()["unsubscribe_url"]
        fresh_path = fresh.removeprefix("http://gateway.test")
        assert (await http.post(fresh_path, json={"scope": "kind"})).json()["errors"][0]["field"] == "scope"
        everything = await http.post(fresh_path, data={"scope": "all"})
        assert everything.status_code == 200 and everything.json()["subscribed"] is False


async def test_failed_send_is_retried_and_does_not_block_the_workflow(infra, topics, scratch_schema):
    port = free_port()  # nothing listens here yet
    brand = Brand()
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        await add_members(events, http, brand, {"rita": (RITA, "approver")})
        job_id = uuid.uuid4()
        await events.send(job_created(job_id), brand)
        round_ = await pending_round(http, brand, job_id)

        async def failed_twice() -> dict | None:
            detail = (
                await http.get(f"/v1/approvals/{round_['id']}", headers=brand.headers("a", "admin"))
            ).json()
            mails = detail["notifications"]
            return mails[0] if mails and mails[0]["attempts"] >= 2 else None

        failing = await eventually(failed_twice)
        assert failing["status"] == "pending" and failing["last_error"]
        # The mail server is down, the workflow is not.
        decided = await http.post(
            f"/v1/approvals/{round_['id']}/decision",
            headers=brand.headers("rita", "approver"),
            json={"decision": "approve"},
        )
        assert decided.status_code == 200

        async with smtp_server(port) as (inbox, _):

            async def delivered() -> bool:
                return bool(inbox.to(RITA))

            await eventually(delivered)
            assert [m["Subject"] for m in inbox.to(RITA)] == ["Approval requested (round 1)"]
