"""Steps the end-to-end, acceptance and fault tests share: onboarding a brand, drafting,
approving, waiting for a job, following the live event stream. All through the gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    LiveEvents,  # noqa: F401 - re-exported: the tests take it from here with the steps
    Member,
    SandboxControl,
    add_member,
    connect_sandbox,
    create_brand,
    eventually,
)

FINAL = ("published", "partially_published", "failed", "cancelled")


async def onboard_brand(api: Gateway, sandbox_url: str, *, label: str, connect: bool = True) -> BrandSetup:
    """A new tenant whose first brand has an owner and a client, and a sandbox account connected by OAuth."""
    tag = uuid.uuid4().hex[:8]
    setup = await create_brand(
        api,
        tenant_id=str(uuid.uuid4()),
        name=f"{label} {tag}",
        owner_id=f"owner-{tag}",
        owner_email=f"owner-{tag}@example.com",
    )
    setup.client = await add_member(
        setup, user_id=f"client-{tag}", email=f"client-{tag}@example.com", role="client"
    )
    setup.extra["account"] = f"{label}-{tag}"
    if connect:
        setup.connection = await connect_sandbox(setup.owner.api, sandbox_url, setup.extra["account"])
    return setup


def in_seconds(seconds: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).isoformat()


def unknown_connection(error: ApiError) -> bool:
    """Publishing (or approval) does not know the connection (yet): one made moments ago reaches
    its projection within seconds (ADR 0006)."""
    errors = error.body.get("errors", []) if isinstance(error.body, dict) else []
    return error.status == 422 and any(e.get("code") == "unknown_connection" for e in errors)


async def create_job(owner: Gateway, body: dict[str, Any], *, timeout_s: float = 30) -> dict[str, Any]:
    """POST /v1/jobs as a frontend does right after connecting an account: while publishing
    answers "unknown connection" the account is still being announced, so try again shortly."""
    return await _once_connection_known(owner, "POST", "/v1/jobs", body, timeout_s)


async def subscribe_feed(owner: Gateway, body: dict[str, Any], *, timeout_s: float = 30) -> dict[str, Any]:
    """POST /v1/feed-subscriptions, retried while publishing does not know the account yet."""
    return await _once_connection_known(owner, "POST", "/v1/feed-subscriptions", body, timeout_s)


async def put_policy(
    owner: Gateway, body: dict[str, Any], *, timeout_s: float = 30, **kwargs: Any
) -> dict[str, Any]:
    """PUT /v1/policies, retried while approval does not know the policy's connection yet."""
    return await _once_connection_known(owner, "PUT", "/v1/policies", body, timeout_s, **kwargs)


async def _once_connection_known(
    owner: Gateway, method: str, path: str, body: dict[str, Any], timeout_s: float, **kwargs: Any
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await owner.request(method, path, json_body=body, **kwargs)
        except ApiError as error:
            if not unknown_connection(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(0.3)


async def draft_and_submit(
    owner: Gateway,
    connection_id: str,
    *,
    text: str,
    requires_approval: bool,
    due_in_s: float | None = None,
    max_retries: int | None = None,
) -> dict[str, Any]:
    """POST /v1/jobs then /submit: the job goes to approval, or straight to scheduled/ready."""
    body: dict[str, Any] = {
        "content": text,
        "targets": [{"platform": "sandbox", "connection_id": connection_id}],
        "requires_approval": requires_approval,
    }
    if due_in_s is not None:
        body["scheduled_at"] = in_seconds(due_in_s)
    if max_retries is not None:
        body["max_retries"] = max_retries
    job = await create_job(owner, body)
    return await owner.post(f"/v1/jobs/{job['job_id']}/submit")


async def pending_round(member: Member | Gateway, job_id: str, *, timeout_s: float = 60) -> dict[str, Any]:
    api = member.api if isinstance(member, Member) else member

    async def find():
        rounds = (await api.get(f"/v1/jobs/{job_id}/approvals"))["items"]
        return next((r for r in rounds if r["status"] == "pending"), None)

    return await eventually(find, timeout_s=timeout_s, what=f"a pending approval round of job {job_id}")


async def decide(
    member: Member, job_id: str, decision: str = "approve", comment: str = "ok"
) -> dict[str, Any]:
    approval = await pending_round(member, job_id)
    return await member.api.post(
        f"/v1/approvals/{approval['id']}/decision", {"decision": decision, "comment": comment}
    )


async def held_post(owner: Gateway, connection_id: str, text: str) -> dict[str, Any]:
    """A post due now on a connection that cannot publish; waits until its target is held and
    returns the job as it is then."""
    job = await draft_and_submit(owner, connection_id, text=text, requires_approval=False, due_in_s=1)

    async def held():
        current = await owner.get(f"/v1/jobs/{job['job_id']}")
        return current if current["targets"][0]["status"] == "held" else None

    return await eventually(held, timeout_s=60, what="the post to be held")


async def job_in(
    owner: Gateway, job_id: str, statuses: tuple[str, ...], *, timeout_s: float = 90
) -> dict[str, Any]:
    async def check():
        job = await owner.get(f"/v1/jobs/{job_id}")
        return job if job["status"] in statuses else None

    return await eventually(check, timeout_s=timeout_s, what=f"job {job_id} to be {' or '.join(statuses)}")


async def upload_photo(api: Gateway, size: int = 4000) -> dict[str, Any]:
    """A real PNG (different bytes every call) uploaded through POST /v1/media; its asset."""
    from aligned_testing.media import png

    answer = await api.upload("/v1/media", "photo.png", png(size), "image/png")
    assert answer.status_code == 201, answer.text
    return answer.json()


async def measured_post(
    owner: Gateway, sandbox: SandboxControl, connection_id: str, text: str
) -> dict[str, Any]:
    """A post published now and measured: the sandbox's clock moves on half an hour (the post
    finds an audience) and an on-demand sync brings its figures in. The post as
    /v1/analytics/posts lists it, once it has likes. Moves the shared sandbox clock."""
    job = await draft_and_submit(owner, connection_id, text=text, requires_approval=False, due_in_s=1)
    published = await job_in(owner, job["job_id"], ("published", "failed"))
    assert published["status"] == "published", published
    await sandbox.advance_clock(1800)
    today = dt.datetime.now(dt.UTC).date()
    around = {"from": str(today - dt.timedelta(days=2)), "to": str(today + dt.timedelta(days=2))}

    async def liked():
        await owner.post("/v1/analytics/syncs", {"connection_id": connection_id})
        items = (await owner.get("/v1/analytics/posts", **around))["items"]
        mine = [p for p in items if p.get("job_id") == job["job_id"]]
        return mine[0] if mine and mine[0]["metrics"]["likes"] > 0 else None

    return await eventually(liked, timeout_s=90, interval_s=5, what="likes for the post")
