"""Review links: a client without an account sees the post per platform and decides once."""

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
)

pytestmark = pytest.mark.integration


async def test_review_link_shows_post_per_platform_and_decides_once(infra, topics, scratch_schema, smtp):
    inbox, port = smtp
    brand = Brand()
    editor = brand.headers("alex", "editor")
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        job_id = uuid.uuid4()
        long_text = "Big news " * 60  # 540 characters: too long for Mastodon, fine for the sandbox
        await events.send(job_created(job_id, content=long_text, platforms=("mastodon", "sandbox")), brand)
        round_ = await pending_round(http, brand, job_id)

        created = await http.post(
            f"/v1/approvals/{round_['id']}/links",
            headers=editor,
            json={"recipient": "carol@client.example.com"},
        )
        assert created.status_code == 201, created.text
        link = created.json()
        assert "token" not in link and "url" not in link  # an editor may not decide: it goes by mail only

        # The recipient gets the link by mail; that is the link we use.
        messages = await eventually(lambda: _mails(inbox, "carol@client.example.com"))
        mailed_url = re.search(r"(http://gateway\.test/review/\S+)", body_of(messages[0])).group(1)
        token = mailed_url.rsplit("/", 1)[1]

        page = await http.get(f"/review/{token}")
        assert page.status_code == 200
        by_platform = {p["platform"]: p for p in page.json()["platforms"]}
        assert by_platform["mastodon"]["fits"] is False and by_platform["mastodon"]["max_length"] == 500
        assert by_platform["sandbox"]["fits"] is True and by_platform["sandbox"]["text"] == long_text

        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert (await http.get(f"/review/{tampered}")).status_code == 404

        decided = await http.post(
            f"/review/{token}", json={"decision": "request_changes", "comment": "shorter please"}
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["decided_by"] == f"link:{link['id']}"
        assert decided.json()["status"] == "changes_requested"

        again = await http.post(f"/review/{token}", json={"decision": "approve"})
        assert again.status_code == 410
        assert (await http.get(f"/review/{token}")).status_code == 410


async def test_revoked_and_expired_links_are_refused(infra, topics, scratch_schema, smtp):
    _, port = smtp
    brand = Brand()
    editor = brand.headers("alex", "editor")
    owner = brand.headers("olga", "owner")  # may decide, so gets the tokens back
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        job_id = uuid.uuid4()
        await events.send(job_created(job_id), brand)
        round_ = await pending_round(http, brand, job_id)
        revoked = (await http.post(f"/v1/approvals/{round_['id']}/links", headers=owner, json={})).json()
        short = (
            await http.post(
                f"/v1/approvals/{round_['id']}/links", headers=owner, json={"expires_in_hours": 0.0003}
            )
        ).json()  # about one second
        gone = await http.delete(f"/v1/approvals/{round_['id']}/links/{revoked['id']}", headers=editor)
        assert gone.status_code == 204
        refused = await http.post(f"/review/{revoked['token']}", json={"decision": "approve"})
        assert refused.status_code == 410 and "revoked" in refused.json()["title"].lower()

        async def expired() -> bool:
            return (await http.get(f"/review/{short['token']}")).status_code == 410

        await eventually(expired, timeout_s=10)
        refused = await http.post(f"/review/{short['token']}", json={"decision": "approve"})
        assert refused.status_code == 410 and "expired" in refused.json()["title"].lower()
        still = (await http.get(f"/v1/approvals/{round_['id']}", headers=editor)).json()
        assert still["status"] == "pending"


async def _mails(inbox, address):
    return inbox.to(address)


async def test_a_link_goes_only_to_someone_the_round_s_rules_let_decide(infra, topics, scratch_schema, smtp):
    """A link decides as whoever holds it: an editor (who may not decide) never sees a token,
    and a link is not sent to a member the round does not name as a decider."""
    _, port = smtp
    brand = Brand()
    editor, approver = brand.headers("alex", "editor"), brand.headers("pat", "approver")
    async with (
        approval_service(scratch_schema, infra.kafka_bootstrap, service_settings(port)) as svc,
        svc.client() as http,
        EventSender(infra.kafka_bootstrap) as events,
    ):
        await add_members(
            events,
            http,
            brand,
            {"alex": ("alex@agency.example.com", "editor"), "pat": ("pat@agency.example.com", "approver")},
        )
        job_id = uuid.uuid4()
        await events.send(job_created(job_id), brand)
        round_ = await pending_round(http, brand, job_id)
        links = f"/v1/approvals/{round_['id']}/links"

        unsent = await http.post(links, headers=editor, json={})
        assert unsent.status_code == 422 and unsent.json()["errors"][0]["field"] == "recipient"
        to_self = await http.post(links, headers=editor, json={"recipient": "Alex@agency.example.com"})
        assert to_self.status_code == 403 and to_self.json()["errors"][0]["field"] == "recipient"
        to_approver = await http.post(links, headers=editor, json={"recipient": "pat@agency.example.com"})
        assert to_approver.status_code == 201 and "token" not in to_approver.json()
        # The round's approver may decide anyway: the link's token is theirs to pass on.
        own = await http.post(links, headers=approver, json={})
        assert own.status_code == 201 and own.json()["token"]
