"""Flow 5, webhooks: a platform's webhook to POST /webhooks/{provider} is verified,
deduplicated, stored and announced, and the owner of the entity reacts; and a brand's own
endpoint receives its domain events, signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from aligned_testing.flows import LiveEvents, draft_and_submit, held_post, job_in
from aligned_testing.gateway_client import (
    BrandSetup,
    SandboxControl,
    WebhookReceiver,
    connect_sandbox,
    eventually,
)
from aligned_testing.system import System

pytestmark = pytest.mark.e2e


def _signed(secret: str, body: bytes, webhook_id: str) -> dict[str, str]:
    """Standard Webhooks headers, signed the way the platform signs."""
    timestamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(
        hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    )
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": f"v1,{signature.decode()}",
        "content-type": "application/json",
    }


async def test_a_platform_webhook_is_verified_deduplicated_and_announced_once(
    brand: BrandSetup, sandbox: SandboxControl, system: System
) -> None:
    owner = brand.owner.api
    job = await draft_and_submit(
        owner,
        brand.connection_id,
        text=f"Webhook me {uuid.uuid4().hex[:6]}",
        requires_approval=False,
        due_in_s=1,
    )
    remote_id = (await job_in(owner, job["job_id"], ("published",)))["targets"][0]["remote_id"]

    async with LiveEvents(owner) as live:
        sent = await sandbox.send_webhook(type="post.status_changed", post_id=remote_id, status="published")
        assert sent["status_code"] == 202
        announced = await live.wait_for("webhooks.received", remote_post_id=remote_id)
        assert announced["data"]["kind"] == "post_status_changed"

        # The platform retries a delivery (same webhook-id): accepted, but announced only once.
        body = json.dumps(sent["body"], separators=(",", ":")).encode()
        secret = system.env["ALIGNED_WEBHOOKS_SANDBOX_SECRET"]
        webhook_id = f"msg_{uuid.uuid4().hex}"
        async with httpx.AsyncClient(base_url=system.url("gateway")) as platform:
            first = await platform.post(
                "/webhooks/sandbox", content=body, headers=_signed(secret, body, webhook_id)
            )
            again = await platform.post(
                "/webhooks/sandbox", content=body, headers=_signed(secret, body, webhook_id)
            )
            forged = await platform.post(
                "/webhooks/sandbox",
                content=body,
                headers=_signed("whsec_" + base64.b64encode(b"x" * 24).decode(), body, "msg_f"),
            )
        assert (first.status_code, first.json()["status"]) == (202, "accepted")
        assert (again.status_code, again.json()["status"]) == (202, "duplicate")
        assert forged.status_code == 401

        await live.wait_for("webhooks.received", provider_event_id=webhook_id)
        await live.wait_for("webhooks.received", provider_event_id=sent["webhook_id"])
    assert len(live.of_type("webhooks.received", provider_event_id=webhook_id)) == 1


async def test_a_deauthorized_account_is_revoked_and_its_posts_held_until_reconnected(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    async with LiveEvents(owner) as live:
        await sandbox.send_webhook(type="account.deauthorized", account=brand.extra["account"])
        await live.wait_for("connections.connection_revoked", connection_id=brand.connection_id)
    assert (await owner.get(f"/v1/connections/{brand.connection_id}"))["status"] == "revoked"

    text = f"Held after the platform revoked us {uuid.uuid4().hex[:6]}"
    on_hold = await held_post(owner, brand.connection_id, text)
    assert on_hold["targets"][0]["held_reason"]

    await connect_sandbox(owner, sandbox.base_url, brand.extra["account"])
    published = await job_in(owner, on_hold["job_id"], ("published", "failed", "partially_published"))
    assert published["status"] == "published"
    assert (await sandbox.counts())["by_text"][text] == 1


async def test_a_brand_endpoint_receives_its_events_signed(brand: BrandSetup) -> None:
    owner = brand.owner.api
    async with WebhookReceiver() as receiver:
        endpoint = await owner.post(
            "/v1/webhook-endpoints", {"url": receiver.url, "event_types": ["publishing.job_published"]}
        )
        job = await draft_and_submit(
            owner,
            brand.connection_id,
            text=f"Tell my CRM {uuid.uuid4().hex[:6]}",
            requires_approval=False,
            due_in_s=1,
        )
        await job_in(owner, job["job_id"], ("published",))

        async def delivered():
            return [d for d in receiver.deliveries if d.payload["data"].get("job_id") == job["job_id"]]

        [delivery] = await eventually(delivered, timeout_s=60, what="the job_published delivery")

    assert delivery.signed_by(endpoint["secret"])
    assert delivery.payload["type"] == "publishing.job_published"
    assert delivery.payload["brand_id"] == brand.brand_id
    assert delivery.headers["webhook-id"] == delivery.payload["id"]  # the event id: receivers dedupe by it
    deliveries = await owner.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")
    items = deliveries["items"] if isinstance(deliveries, dict) else deliveries
    assert [d["status"] for d in items] == ["succeeded"]
