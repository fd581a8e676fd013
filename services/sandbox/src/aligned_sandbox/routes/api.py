"""The platform's REST API, behind a Bearer token and a per-account rate limit."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request, Response

from aligned_sandbox import content_rules
from aligned_sandbox.accounts import Account
from aligned_sandbox.clock import to_datetime
from aligned_sandbox.errors import SandboxError, invalid_token
from aligned_sandbox.metrics import account_metrics, post_metrics
from aligned_sandbox.models import (
    AccountMetricsOut,
    AccountOut,
    MediaOut,
    NewPost,
    PostList,
    PostMetricsOut,
    PostOut,
)
from aligned_sandbox.posts import Post, UrlOf
from aligned_sandbox.routes.deps import get_sandbox
from aligned_sandbox.state import Sandbox

router = APIRouter(prefix="/api/v1", tags=["api"])
SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


def authenticated_account(request: Request, sandbox: SandboxDep) -> Account:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("a Bearer access token is required")
    now = sandbox.clock.now()
    account = sandbox.accounts.get(sandbox.oauth.authenticate(token.strip(), now))
    if account is None:  # only after a reset raced with a request
        raise invalid_token("the account no longer exists")
    config = sandbox.config
    decision = sandbox.rate_limiter.take(
        account.id, config.rate_limit_capacity, config.rate_limit_refill_per_s, now
    )
    if not decision.allowed:
        raise SandboxError(
            429,
            "rate_limited",
            "too many requests for this account",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    return account


AccountDep = Annotated[Account, Depends(authenticated_account)]


def media_out(media) -> MediaOut:
    return MediaOut(
        id=media.id,
        mime_type=media.mime_type,
        size_bytes=media.size_bytes,
        sha256=media.sha256,
        alt_text=media.alt_text,
    )


def post_out(sandbox: Sandbox, post: Post) -> PostOut:
    return PostOut(
        id=post.id,
        account_id=post.account_id,
        url=post.url,
        text=post.text,
        media_ids=post.media_ids,
        media=[media_out(m) for m in sandbox.posts.media_of(post)],
        status=post.status,
        created_at=to_datetime(post.created_at),
        in_reply_to_id=post.in_reply_to_id,
        visibility=post.visibility,
        sensitive=post.sensitive,
        reply_chain=[parent.id for parent in sandbox.posts.reply_chain(post)],
        reply_ids=[reply.id for reply in sandbox.posts.replies_to(post)],
    )


def _own_post(sandbox: Sandbox, account: Account, post_id: str) -> Post:
    post = sandbox.posts.get(account.id, post_id)
    if post is None:
        raise SandboxError(404, "not_found", f"no post {post_id} for this account")
    return post


@router.get("/me")
async def me(account: AccountDep) -> AccountOut:
    return AccountOut(id=account.id, name=account.name)


@router.post("/media", status_code=201)
async def upload_media(
    request: Request,
    account: AccountDep,
    sandbox: SandboxDep,
    description: Annotated[str, Query(max_length=1500, description="alt text, as Mastodon's")] = "",
) -> MediaOut:
    """The file is the raw body, read as it streams in; its type, size and sha256 are kept
    (not the bytes). Type and size are checked as a real platform would, the size while reading."""
    mime_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    content_rules.check_upload(mime_type, 1)
    limit = content_rules.MAX_BYTES_BY_TYPE[mime_type]
    digest, size_bytes = hashlib.sha256(), 0
    async for chunk in request.stream():
        size_bytes += len(chunk)
        content_rules.check_upload(mime_type, min(size_bytes, limit + 1))
        digest.update(chunk)
    content_rules.check_upload(mime_type, size_bytes)
    return media_out(
        sandbox.posts.add_media(account.id, mime_type, size_bytes, digest.hexdigest(), description)
    )


@router.post("/posts", status_code=201)
async def create_post(
    new_post: NewPost,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    account: AccountDep,
    sandbox: SandboxDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> PostOut:
    """201 with a new post; 200 with the first one when the Idempotency-Key was seen before."""
    content_rules.check_post(new_post.text, sandbox.posts.media_types(account.id, new_post.media_ids))
    post, created = sandbox.posts.create(
        account.id,
        new_post.text,
        new_post.media_ids,
        idempotency_key,
        url_of=UrlOf(str(request.base_url), account.name),
        now=sandbox.clock.now(),
        idempotency_window_s=sandbox.config.idempotency_window_s,
        in_reply_to_id=new_post.in_reply_to_id,
        visibility=new_post.visibility,
        sensitive=new_post.sensitive,
    )
    if not created:
        response.status_code = 200
    elif sandbox.config.webhooks_on_publish and sandbox.config.webhook_url:
        data = {"post_id": post.id, "account_id": account.id, "status": post.status, "url": post.url}
        background.add_task(sandbox.webhooks.send, "post.status_changed", data)
    return post_out(sandbox, post)


@router.get("/posts")
async def recent_posts(
    account: AccountDep, sandbox: SandboxDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> PostList:
    return PostList(posts=[post_out(sandbox, post) for post in sandbox.posts.recent(account.id, limit)])


@router.get("/posts/{post_id}")
async def get_post(post_id: str, account: AccountDep, sandbox: SandboxDep) -> PostOut:
    return post_out(sandbox, _own_post(sandbox, account, post_id))


@router.delete("/posts/{post_id}")
async def delete_post(post_id: str, account: AccountDep, sandbox: SandboxDep) -> PostOut:
    post = _own_post(sandbox, account, post_id)
    sandbox.posts.set_status(post, "deleted", sandbox.clock.now())
    return post_out(sandbox, post)


@router.get("/posts/{post_id}/metrics")
async def get_post_metrics(post_id: str, account: AccountDep, sandbox: SandboxDep) -> PostMetricsOut:
    return post_metrics(_own_post(sandbox, account, post_id), sandbox.clock.now())


@router.get("/accounts/me/metrics")
async def get_account_metrics(account: AccountDep, sandbox: SandboxDep) -> AccountMetricsOut:
    return account_metrics(account, sandbox.posts.count_for(account.id), sandbox.clock.now())
