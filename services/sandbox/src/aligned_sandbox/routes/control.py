"""The control API for tests: faults, configuration, clock, counts and webhooks. No auth: the
sandbox listens on loopback and holds nothing real."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from aligned_sandbox.config import SandboxConfig
from aligned_sandbox.errors import SandboxError
from aligned_sandbox.faults import FaultSpec
from aligned_sandbox.metrics import post_metrics
from aligned_sandbox.models import PostOut, PostState
from aligned_sandbox.posts import Post
from aligned_sandbox.routes.api import post_out
from aligned_sandbox.routes.deps import get_sandbox
from aligned_sandbox.state import Sandbox
from aligned_sandbox.webhooks import Delivery, WebhookType

router = APIRouter(prefix="/_control", tags=["control"])
SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


class ClockAdvance(BaseModel):
    seconds: float = Field(gt=0)


class WebhookRequest(BaseModel):
    """A platform-side event to announce. It also happens: a deleted post is deleted, a
    deauthorized account loses its tokens, so the API agrees with what the webhook said."""

    model_config = ConfigDict(extra="forbid")

    type: WebhookType
    post_id: str | None = None
    status: PostState | None = Field(default=None, description="post.status_changed: the new status")
    account: str | None = Field(default=None, description="account.deauthorized: the account name")


@router.post("/faults", status_code=201)
async def add_fault(spec: FaultSpec, sandbox: SandboxDep) -> dict[str, str]:
    return {"id": sandbox.faults.add(spec)}


@router.get("/faults")
async def list_faults(sandbox: SandboxDep) -> list[dict[str, Any]]:
    return sandbox.faults.active()


@router.delete("/faults", status_code=204)
async def clear_faults(sandbox: SandboxDep) -> None:
    sandbox.faults.clear()


@router.get("/posts/counts")
async def creation_counts(sandbox: SandboxDep) -> dict[str, Any]:
    """How many times each post was created: any count above 1 is a duplicate post."""
    counts = sandbox.posts.counts()
    return {
        "total_created": sum(counts.by_post_id.values()),
        "by_idempotency_key": dict(counts.by_idempotency_key),
        "by_post_id": dict(counts.by_post_id),
        "by_text": dict(counts.by_text),
    }


@router.get("/posts/{post_id}")
async def get_post(post_id: str, sandbox: SandboxDep) -> PostOut:
    """A post as the platform holds it, with every media item received (type, size, sha256)."""
    post = sandbox.posts.find(post_id)
    if post is None:
        raise SandboxError(404, "not_found", f"no post {post_id}")
    return post_out(sandbox, post)


@router.get("/config")
async def get_config(sandbox: SandboxDep) -> SandboxConfig:
    return sandbox.config


@router.post("/config")
async def change_config(sandbox: SandboxDep, changes: Annotated[dict[str, Any], Body()]) -> SandboxConfig:
    try:
        return sandbox.configure(changes)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise SandboxError(422, "validation_failed", str(error)) from error


@router.post("/reset", status_code=204)
async def reset(sandbox: SandboxDep) -> None:
    sandbox.reset()


@router.post("/clock/advance")
async def advance_clock(advance: ClockAdvance, sandbox: SandboxDep) -> dict[str, float]:
    sandbox.clock.advance(advance.seconds)
    return {"now": sandbox.clock.now()}


@router.post("/webhooks/send")
async def send_webhook(request: WebhookRequest, sandbox: SandboxDep) -> Delivery:
    sandbox.webhooks.ensure_configured()  # before the event's effects, which must not happen alone
    if request.type == "account.deauthorized":
        data = _deauthorize(sandbox, request)
    elif request.type == "post.status_changed":
        data = _change_post_status(sandbox, request)
    else:
        post = _post(sandbox, request)
        data = {
            "post_id": post.id,
            "account_id": post.account_id,
            "metrics": post_metrics(post, sandbox.clock.now()).model_dump(mode="json", exclude={"post_id"}),
        }
    return await sandbox.webhooks.send(request.type, data)


@router.get("/webhooks/deliveries")
async def webhook_deliveries(sandbox: SandboxDep) -> list[Delivery]:
    return sandbox.webhooks.deliveries()


def _post(sandbox: Sandbox, request: WebhookRequest) -> Post:
    post = sandbox.posts.find(request.post_id or "")
    if post is None:
        raise SandboxError(404, "not_found", f"{request.type} needs the post_id of an existing post")
    return post


def _change_post_status(sandbox: Sandbox, request: WebhookRequest) -> dict[str, Any]:
    post = _post(sandbox, request)
    if request.status is not None:
        sandbox.posts.set_status(post, request.status, sandbox.clock.now())
    return {"post_id": post.id, "account_id": post.account_id, "status": post.status, "url": post.url}


def _deauthorize(sandbox: Sandbox, request: WebhookRequest) -> dict[str, Any]:
    account = sandbox.accounts.by_name(request.account or "")
    if account is None:
        raise SandboxError(404, "not_found", "account.deauthorized needs the name of an existing account")
    revoked = sandbox.oauth.revoke_account(account.id)
    return {"account_id": account.id, "account_name": account.name, "grants_revoked": revoked}
