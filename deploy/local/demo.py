"""The local demo: a brand, its people and the five flows of the design, through the gateway only.

    python deploy/local/demo.py setup   # make up runs this: the demo tenant, brand, owner and
                                        # client (idempotent), then prints a token to try
    python deploy/local/demo.py run     # make demo: connect, draft, approve, publish, metrics,
                                        # platform webhook in, brand webhook out

Everything goes through the public API (http://127.0.0.1:8000), as a frontend would. The
exceptions stand in for the outside world: the sandbox platform's own pages and control API
(a user clicking "Allow" on the platform's consent page, time passing on the platform so the
post finds an audience, the platform deciding to send a webhook) and the local mailbox
(Mailpit), where the client reads the review e-mail before following its link.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import time
import uuid
from typing import Any

from aligned_common.localrun import local_mail_server, local_ports
from aligned_testing.flows import create_job
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    LiveEvents,
    Member,
    SandboxControl,
    WebhookReceiver,
    add_member,
    brand_of,
    connect_sandbox,
    dev_token,
    eventually,
)
from aligned_testing.mailbox import Mailbox, text_of

# make up's ports (ALIGNED_LOCAL_PORT_OFFSET moves them all), unless told otherwise.
GATEWAY_URL = os.environ.get("ALIGNED_DEMO_GATEWAY_URL", f"http://127.0.0.1:{local_ports()['gateway']}")
SANDBOX_URL = os.environ.get("ALIGNED_DEMO_SANDBOX_URL", f"http://127.0.0.1:{local_ports()['sandbox']}")
MAILBOX_URL = local_mail_server().api_url
# Fixed ids, so that every `make up` finds the same demo brand instead of making another.
TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://aligned.example/demo-tenant"))
BRAND_NAME = "Demo brand"
OWNER = ("demo-owner", "owner@example.com")
CLIENT = ("demo-client", "client@example.com")
SANDBOX_ACCOUNT = "demo-brand"
TOKEN_TTL_S = 12 * 3600
RECEIVER_DESCRIPTION = "make demo: local receiver"


def say(step: str, detail: str = "") -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {step}" + (f"\n           {detail}" if detail else ""), flush=True)


# -- setup ---------------------------------------------------------------------------------------
async def ensure_demo_brand(api: Gateway) -> tuple[BrandSetup, Member]:
    """The demo brand, its owner and a client who approves posts; made on first use, found after."""
    tenant_token = await dev_token(api, user_id=OWNER[0], tenant_id=TENANT_ID, email=OWNER[1])
    mine = await api.as_(tenant_token).get("/v1/me/brands")
    brand = next((b for b in mine if b["name"] == BRAND_NAME and b["status"] == "active"), None)
    if brand is None:
        brand = await api.as_(tenant_token).post("/v1/brands", {"name": BRAND_NAME, "time_zone": "UTC"})
    setup = await brand_of(api, TENANT_ID, brand, OWNER[0], OWNER[1], ttl_s=TOKEN_TTL_S)
    members = (await setup.owner.api.get("/v1/members", limit=200))["items"]
    if not any(m["user_id"] == CLIENT[0] for m in members):
        await add_member(setup, user_id=CLIENT[0], email=CLIENT[1], role="client", ttl_s=TOKEN_TTL_S)
    client_token = await dev_token(
        api,
        user_id=CLIENT[0],
        tenant_id=TENANT_ID,
        brand_ids=[setup.brand_id],
        role="client",
        email=CLIENT[1],
        ttl_s=TOKEN_TTL_S,
    )
    client = Member(CLIENT[0], CLIENT[1], "client", api.as_(client_token))
    return setup, client


async def setup_command() -> int:
    api = Gateway(GATEWAY_URL, retry_for_s=60)
    try:
        setup, _ = await ensure_demo_brand(api)
    finally:
        await api.aclose()
    print(f"""
Gateway:      {GATEWAY_URL}   (API docs: {GATEWAY_URL}/docs)
Mailbox:      {MAILBOX_URL}   (every e-mail the platform sends: review requests, reminders, ...)
Demo brand:   {setup.name} ({setup.brand_id}), you are its owner ({OWNER[0]})
Token (12 h): export TOKEN={setup.owner.api.token}

Try:  curl -s -H "Authorization: Bearer $TOKEN" {GATEWAY_URL}/v1/dashboard
Next: make demo      (connect an account, draft, approve, publish, metrics, webhooks)
Stop: make down      (keeps every row; make up brings the same data back)
""")
    return 0


# -- the walk --------------------------------------------------------------------------------------
def print_live_event(message: dict[str, Any]) -> None:
    data = message["data"] if isinstance(message["data"], dict) else {}
    print(f"           live event: {message.get('event')}  (subject {data.get('subject')})", flush=True)


async def connect_account(owner: Gateway) -> dict[str, Any]:
    say(
        "1. Connect the sandbox account by OAuth",
        "POST /v1/connections/oauth/sandbox/start -> the platform's consent page (auto-approved) -> "
        "POST /v1/connections/oauth/sandbox/callback",
    )
    connection = await connect_sandbox(owner, SANDBOX_URL, SANDBOX_ACCOUNT)
    say(
        "   connected",
        f"connection {connection['id']}: account {connection['account_name']}, status "
        f"{connection['status']}, token expires {connection['expires_at']} (kept encrypted by connections)",
    )
    return connection


async def register_receiver(owner: Gateway, receiver: WebhookReceiver) -> dict[str, Any]:
    for endpoint in await _endpoints(owner):
        if endpoint.get("description") == RECEIVER_DESCRIPTION:  # an earlier run's receiver is gone
            await owner.request("DELETE", f"/v1/webhook-endpoints/{endpoint['id']}")
    endpoint = await owner.post(
        "/v1/webhook-endpoints",
        {
            "url": receiver.url,
            "description": RECEIVER_DESCRIPTION,
            "event_types": ["publishing.job_published", "approval.approved"],
        },
    )
    say(
        "   registered an outbound webhook endpoint",
        f"{receiver.url} for publishing.job_published, approval.approved",
    )
    return endpoint


async def _endpoints(owner: Gateway) -> list[dict[str, Any]]:
    answer = await owner.get("/v1/webhook-endpoints")
    return answer["items"] if isinstance(answer, dict) else answer


async def draft_post(owner: Gateway, connection_id: str, due_in_s: int) -> dict[str, Any]:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in_s)
    text = f"Hello from Aligned's demo at {dt.datetime.now():%H:%M:%S}: planned, approved, published."
    say(
        "2. Draft a post that needs the client's approval",
        f"POST /v1/jobs (requires_approval, due {due:%H:%M:%S} UTC), then POST /v1/jobs/{{id}}/submit",
    )
    job = await create_job(
        owner,
        {  # retries while publishing has not yet heard of a fresh connection
            "content": text,
            "targets": [{"platform": "sandbox", "connection_id": connection_id}],
            "requires_approval": True,
            "scheduled_at": due.isoformat(),
            "tags": ["demo"],
        },
    )
    job = await owner.post(f"/v1/jobs/{job['job_id']}/submit")
    say("   submitted", f"job {job['job_id']}: {job['status']} ({job['status_reason']})")
    return job


async def approve_as_client(client: Member, mailbox: Mailbox, job_id: str) -> None:
    say(
        "3. The client gets the review e-mail and approves",
        f"approval mails {CLIENT[1]}; the demo reads it in the mailbox ({MAILBOX_URL}) as the client would",
    )
    [mail] = (await mailbox.wait_for(CLIENT[1], subject="Approval requested", timeout_s=60))[-1:]
    found = re.search(r"https?://\S+/v1/approvals/\S+", text_of(mail))
    assert found, f"no review link in the e-mail: {text_of(mail)[:300]}"
    link = found.group(0)
    say(f'   e-mail arrived: "{mail["Subject"]}"', f"to {mail['To']}, link {link}")
    # The link points at the gateway; the client opens it signed in.
    approval = await client.api.get(link)
    say("   followed the link through the gateway", f"round {approval['round']} is {approval['status']}")
    decided = await client.api.post(
        f"/v1/approvals/{approval['id']}/decision",
        {"decision": "approve", "comment": "Looks great, go ahead."},
    )
    say(
        "   approved", f"round {decided['round']} is {decided['status']} (locked: a second decision is a 409)"
    )


async def watch_publish(owner: Gateway, job_id: str) -> dict[str, Any]:
    say(
        "4. Watch it publish when due",
        "GET /v1/jobs/{id} until the dispatcher, connections and the platform are done",
    )
    last = None

    async def finished():
        nonlocal last
        job = await owner.get(f"/v1/jobs/{job_id}")
        if job["status"] != last:
            last = job["status"]
            say(f"   status: {job['status']}", job["status_reason"] or "")
        return job if job["status"] in ("published", "partially_published", "failed") else None

    job = await eventually(finished, timeout_s=120, interval_s=0.5, what="the post to publish")
    target = job["targets"][0]
    say("   published on the sandbox", f"{target['url']} (attempts: {target['attempts']})")
    return job


async def show_metrics(owner: Gateway, sandbox: SandboxControl, job_id: str) -> None:
    say(
        "5. See the metrics arrive",
        "the sandbox lets an hour pass for the post; POST /v1/analytics/syncs; GET /v1/posts/{id}",
    )
    await sandbox.advance_clock(3600)
    await owner.post("/v1/analytics/syncs", {})

    async def with_engagement():
        detail = await owner.get(f"/v1/posts/{job_id}")
        metrics = detail.get("metrics") or []
        return metrics[0] if metrics and metrics[0].get("engagement") else None

    post = await eventually(with_engagement, timeout_s=60, what="metrics for the post")
    values = ", ".join(f"{k} {v:.0f}" for k, v in post["metrics"].items())
    say("   metrics stored by analytics", f"{values}; engagement rate {post['engagement_rate']:.1%}")


async def platform_webhook(sandbox: SandboxControl, feed: LiveEvents, remote_post_id: str) -> None:
    say(
        "6. Receive a platform webhook",
        "the sandbox sends a signed post.status_changed to POST /webhooks/sandbox on the gateway",
    )
    sent = await sandbox.send_webhook(type="post.status_changed", post_id=remote_post_id, status="published")
    say("   sandbox delivered it", f"webhook {sent['webhook_id']} -> HTTP {sent['status_code']}")

    async def received():
        return feed.of_type("webhooks.received", remote_post_id=remote_post_id)

    await eventually(received, timeout_s=30, what="webhooks.received on the live stream")
    say("   verified, deduplicated, stored and announced as webhooks.received")


async def outbound_webhook(receiver: WebhookReceiver, endpoint: dict[str, Any], job_id: str) -> None:
    say("7. See an outbound webhook delivered", f"to the receiver this demo runs at {receiver.url}")

    async def delivered():
        return next(
            (
                d
                for d in receiver.deliveries
                if d.payload.get("type") == "publishing.job_published"
                and d.payload["data"].get("job_id") == job_id
            ),
            None,
        )

    delivery = await eventually(delivered, timeout_s=60, what="the job_published delivery")
    valid = delivery.signed_by(endpoint["secret"])
    say(
        "   received publishing.job_published",
        f"webhook-id {delivery.headers['webhook-id']}, signature {'valid' if valid else 'INVALID'} "
        f"({len(receiver.deliveries)} deliveries in all)",
    )


async def run_command() -> int:
    started = time.monotonic()
    try:  # from now on: mail of earlier runs to the same client does not count
        mailbox = Mailbox().start()
    except RuntimeError as error:
        print(f"{error}; is it up? try: make up", file=sys.stderr)
        return 1
    api = Gateway(GATEWAY_URL, retry_for_s=30)
    sandbox = SandboxControl(SANDBOX_URL)
    try:
        setup, client = await ensure_demo_brand(api)
        owner = setup.owner.api
        say(f"Demo brand {setup.brand_id}", f"owner {OWNER[0]}, client {CLIENT[0]}; gateway {GATEWAY_URL}")
        async with LiveEvents(owner, on_event=print_live_event) as feed, WebhookReceiver() as receiver:
            connection = await connect_account(owner)
            endpoint = await register_receiver(owner, receiver)
            job = await draft_post(owner, connection["id"], due_in_s=15)
            await approve_as_client(client, mailbox, job["job_id"])
            job = await watch_publish(owner, job["job_id"])
            if job["status"] != "published":
                say("The post did not publish", str(job["targets"]))
                return 1
            await show_metrics(owner, sandbox, job["job_id"])
            await platform_webhook(sandbox, feed, job["targets"][0]["remote_id"])
            await outbound_webhook(receiver, endpoint, job["job_id"])
        say(
            f"Done in {time.monotonic() - started:.0f} s.",
            f"The post, its approval and its metrics in one read: GET {GATEWAY_URL}/v1/posts/{job['job_id']}\n"
            f"           The audit trail: GET {GATEWAY_URL}/v1/audit-logs\n"
            f"           Every e-mail it sent: {MAILBOX_URL}",
        )
        return 0
    except (ApiError, AssertionError) as error:
        say("The demo stopped", str(error))
        return 1
    finally:
        mailbox.stop()
        await sandbox.aclose()
        await api.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["setup", "run"])
    command = parser.parse_args().command
    try:
        return asyncio.run(setup_command() if command == "setup" else run_command())
    except KeyboardInterrupt:
        return 130
    except OSError as error:
        print(f"cannot reach the gateway at {GATEWAY_URL} ({error}); is it up? try: make up", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
