"""The audit trail names who acted and from where (issue 18): the actor's id and e-mail, the
client's IP address and user agent, and an edit's before and after, for every action that came
through the gateway, the public review link included. Read through the gateway, as an owner.

The tests stand where the Ingress would (the test platform trusts 127.0.0.1 as its proxy,
ALIGNED_GATEWAY_TRUSTED_PROXIES): the client is the right-most X-Forwarded-For entry that is no
trusted proxy, so an address a client wrote into the header itself is never the one recorded.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from aligned_testing.flows import create_job, draft_and_submit, pending_round
from aligned_testing.gateway_client import BrandSetup, Gateway, eventually

pytestmark = pytest.mark.e2e

SPOOFED = "6.6.6.6"  # what the client itself claims, in front of what the proxy appended


def _origin() -> tuple[str, dict[str, str]]:
    """A client address (TEST-NET-3) and the headers a client behind our proxy arrives with."""
    tag = uuid.uuid4().hex[:8]
    ip = f"203.0.113.{int(tag[:2], 16) % 250 + 1}"
    return ip, {"User-Agent": f"AuditTest/1.0 ({tag})", "X-Forwarded-For": f"{SPOOFED}, {ip}"}


async def _audited(owner: Gateway, *, action: str, **filters: Any) -> dict[str, Any]:
    async def found():
        items = (await owner.get("/v1/audit-logs", action=action, **filters))["items"]
        return items[0] if items else None

    return await eventually(found, timeout_s=30, what=f"{action} in the audit trail")


async def test_a_job_edit_is_audited_with_the_actor_their_address_user_agent_and_before_after(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    job = await create_job(
        owner,
        {
            "content": "Before the edit",
            "targets": [{"platform": "sandbox", "connection_id": brand.connection_id}],
        },
    )
    ip, headers = _origin()
    await owner.request(
        "PATCH", f"/v1/jobs/{job['job_id']}", json_body={"content": "After the edit"}, headers=headers
    )

    entry = await _audited(owner, action="publishing.job_edited", entity_type="job", entity_id=job["job_id"])
    assert entry["actor"] == brand.owner.user_id and entry["actor_email"] == brand.owner.email
    assert entry["ip_address"] == ip  # not the address the client wrote into X-Forwarded-For
    assert entry["user_agent"] == headers["User-Agent"]
    assert entry["before"] == {"content": "Before the edit"} and entry["after"] == {
        "content": "After the edit"
    }


async def test_a_policy_change_is_audited_with_the_policy_before_and_after(brand: BrandSetup) -> None:
    owner = brand.owner.api
    author = f"author-{uuid.uuid4().hex[:6]}"  # a policy for one author: nothing else of the brand changes
    first = await owner.request("PUT", "/v1/policies", json_body={"user_id": author, "mode": "full_posting"})
    ip, headers = _origin()
    await owner.request(
        "PUT", "/v1/policies", json_body={"user_id": author, "mode": "approval_required"}, headers=headers
    )

    async def second_change():
        items = (await owner.get("/v1/audit-logs", action="approval.policy_changed", entity_id=first["id"]))[
            "items"
        ]
        return next((i for i in items if i["before"] is not None), None)

    entry = await eventually(second_change, timeout_s=30, what="the policy's change in the audit trail")
    assert entry["actor"] == brand.owner.user_id and entry["actor_email"] == brand.owner.email
    assert (entry["ip_address"], entry["user_agent"]) == (ip, headers["User-Agent"])
    assert entry["before"]["mode"] == "full_posting" and entry["after"]["mode"] == "approval_required"


async def test_a_review_link_decision_records_the_clients_address_and_user_agent(brand: BrandSetup) -> None:
    owner = brand.owner.api
    job = await draft_and_submit(
        owner,
        brand.connection_id,
        text=f"Audited review {uuid.uuid4().hex[:6]}",
        requires_approval=True,
        due_in_s=3600,
    )
    round_ = await pending_round(owner, job["job_id"])
    link = await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": "dana@client.example.com"})
    url = link["url"]

    ip, headers = _origin()
    async with httpx.AsyncClient(timeout=30) as browser:  # the client: no account, only the link
        decided = await browser.post(
            url,
            json={"decision": "approve", "comment": "fine"},
            headers={"accept": "application/json", **headers},
        )
        assert decided.status_code == 200, decided.text

    entry = await _audited(owner, action="approval.approved", entity_id=round_["id"])
    assert entry["actor"].startswith("link:") and entry["actor_email"] is None  # the link decided, no account
    assert (entry["ip_address"], entry["user_agent"]) == (ip, headers["User-Agent"])
    assert entry["before"] == {"status": "pending"} and entry["after"] == {"status": "approved"}


async def test_an_escalation_rule_change_is_audited_with_its_before_and_after(brand: BrandSetup) -> None:
    owner = brand.owner.api
    rule = await owner.post(
        "/v1/escalation-rules", {"name": "slow", "levels": [{"after_hours": 4, "notify_roles": ["admin"]}]}
    )
    ip, headers = _origin()
    await owner.request(
        "PUT",
        f"/v1/escalation-rules/{rule['id']}",
        headers=headers,
        json_body={"name": "slow", "levels": [{"after_hours": 2, "notify_roles": ["admin"]}]},
    )

    async def replaced():
        items = (
            await owner.get("/v1/audit-logs", action="approval.escalation_rule_changed", entity_id=rule["id"])
        )["items"]
        return next((i for i in items if i["before"] is not None), None)

    entry = await eventually(replaced, timeout_s=30, what="the rule's change in the audit trail")
    assert entry["entity_type"] == "escalation_rule" and entry["actor_email"] == brand.owner.email
    assert (entry["ip_address"], entry["user_agent"]) == (ip, headers["User-Agent"])
    assert (
        entry["before"]["levels"][0]["after_hours"] == 4 and entry["after"]["levels"][0]["after_hours"] == 2
    )


async def test_client_settings_changes_are_audited_by_the_manager_and_by_the_clients_own_unsubscribe(
    brand: BrandSetup,
) -> None:
    owner = brand.owner.api
    address = f"client-{uuid.uuid4().hex[:8]}@client.example.com"
    created = await owner.request("PUT", f"/v1/client-settings/{address}", json_body={"language": "en"})
    ip, headers = _origin()
    await owner.request(
        "PUT",
        f"/v1/client-settings/{address}",
        headers=headers,
        json_body={"language": "de", "preferences": {"publish_success": True}},
    )

    async def changed_by_the_manager():
        items = (
            await owner.get(
                "/v1/audit-logs", action="approval.client_settings_changed", entity_id=created["id"]
            )
        )["items"]
        return next((i for i in items if i["before"] is not None and i["actor"] == brand.owner.user_id), None)

    entry = await eventually(
        changed_by_the_manager, timeout_s=30, what="the manager's change in the audit trail"
    )
    assert entry["entity_type"] == "client_settings" and entry["actor_email"] == brand.owner.email
    assert (entry["ip_address"], entry["user_agent"]) == (ip, headers["User-Agent"])
    assert (entry["before"]["language"], entry["after"]["language"]) == ("en", "de")
    assert entry["before"]["preferences"]["publish_success"] is False
    assert entry["after"]["preferences"]["publish_success"] is True

    client_ip, client_headers = _origin()
    async with httpx.AsyncClient(timeout=30) as mail_client:  # the client's one-click unsubscribe, no account
        clicked = await mail_client.post(
            created["unsubscribe_url"],
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded", **client_headers},
        )
        assert clicked.status_code == 200, clicked.text

    async def changed_by_the_client():
        items = (
            await owner.get(
                "/v1/audit-logs", action="approval.client_settings_changed", entity_id=created["id"]
            )
        )["items"]
        return next((i for i in items if i["actor"] == f"client:{address}"), None)

    entry = await eventually(
        changed_by_the_client, timeout_s=30, what="the client's unsubscribe in the audit trail"
    )
    assert (entry["ip_address"], entry["user_agent"]) == (client_ip, client_headers["User-Agent"])
    assert entry["before"]["subscribed"] is True and entry["after"]["subscribed"] is False
