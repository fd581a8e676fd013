"""Comments, mentions and reviews: what the platform's people say to and about an account.

Tests make them happen on demand (the control routes below), the platform announces each by a
signed webhook (comment.created / updated / deleted, review.created) when webhooks are
configured, and lists them in its API so a poll finds the same items: GET /api/v1/comments
(everything on or about the calling account), GET /api/v1/posts/{id}/comments, GET
/api/v1/reviews. The account answers with POST /api/v1/posts/{id}/comments (`in_reply_to_id`:
the comment answered; an Idempotency-Key makes a retry return the first reply) and POST
/api/v1/reviews/{id}/reply. A webhook's data and an API item have one shape (`item()`), the one
the webhooks service and connections hand on as aligned_common's PlatformItem.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Header
from pydantic import BaseModel, ConfigDict, Field

from aligned_sandbox.comments_store import Comment, Review, comment_item, review_item
from aligned_sandbox.errors import SandboxError
from aligned_sandbox.routes.api import AccountDep
from aligned_sandbox.routes.deps import get_sandbox
from aligned_sandbox.state import Sandbox
from aligned_sandbox.webhooks import EngagementWebhookType

# -- the platform's API -------------------------------------------------------------------------
api = APIRouter(prefix="/api/v1", tags=["api"])
control = APIRouter(prefix="/_control", tags=["control"])
SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


class ItemList(BaseModel):
    items: list[dict[str, Any]]


class NewReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    in_reply_to_id: str = Field(min_length=1, max_length=100, description="the comment answered")


class ReviewReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096)


@api.get("/comments")
async def account_comments(account: AccountDep, sandbox: SandboxDep) -> ItemList:
    """Every comment on the account's posts and every mention of it, deleted ones included."""
    return ItemList(items=[comment_item(c) for c in sandbox.engagement.about(account.id)])


@api.get("/posts/{post_id}/comments")
async def post_comments(post_id: str, account: AccountDep, sandbox: SandboxDep) -> ItemList:
    if sandbox.posts.get(account.id, post_id) is None:
        raise SandboxError(404, "not_found", f"no post {post_id} for this account")
    return ItemList(items=[comment_item(c) for c in sandbox.engagement.on_post(post_id)])


@api.post("/posts/{post_id}/comments", status_code=201)
async def reply_to_comment(
    post_id: str,
    body: NewReply,
    account: AccountDep,
    sandbox: SandboxDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> dict[str, Any]:
    if sandbox.posts.get(account.id, post_id) is None:
        raise SandboxError(404, "not_found", f"no post {post_id} for this account")
    comment, _ = sandbox.engagement.reply(
        account.id, post_id, body.in_reply_to_id, body.text, idempotency_key, sandbox.clock.now()
    )
    return comment_item(comment)


@api.get("/reviews")
async def reviews(account: AccountDep, sandbox: SandboxDep) -> ItemList:
    return ItemList(items=[review_item(r) for r in sandbox.engagement.reviews_of(account.id)])


@api.post("/reviews/{review_id}/reply")
async def reply_to_review(
    review_id: str, body: ReviewReply, account: AccountDep, sandbox: SandboxDep
) -> dict[str, Any]:
    review = sandbox.engagement.reply_to_review(account.id, review_id, body.text, sandbox.clock.now())
    return review_item(review)


# -- the control API: tests make people comment and review ---------------------------------------
class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    author_name: str = Field(default="A follower", min_length=1, max_length=200)
    kind: Literal["comment", "mention"] = "comment"
    language: str | None = Field(default=None, max_length=10)
    in_reply_to_id: str | None = Field(default=None, description="a comment on the same post this answers")
    webhook: bool = Field(default=True, description="announce it by webhook (when webhooks are configured)")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=5000)
    rating: int = Field(ge=1, le=5)
    reviewer_name: str = Field(default="A customer", min_length=1, max_length=200)
    language: str | None = Field(default=None, max_length=10)
    webhook: bool = True


class CommentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    webhook: bool = True


async def _announce(
    sandbox: Sandbox,
    background: BackgroundTasks,
    wanted: bool,
    kind: EngagementWebhookType,
    data: dict[str, Any],
) -> None:
    config = sandbox.config
    if wanted and config.webhook_url and config.webhook_secret:
        background.add_task(sandbox.webhooks.send, kind, data)


@control.post("/posts/{post_id}/comments", status_code=201)
async def make_comment(
    post_id: str, body: CommentRequest, background: BackgroundTasks, sandbox: SandboxDep
) -> dict[str, Any]:
    """Someone comments on (or, kind mention, mentions the account in a reply to) a post."""
    post = sandbox.posts.find(post_id)
    if post is None:
        raise SandboxError(404, "not_found", f"no post {post_id}")
    if body.in_reply_to_id is not None:
        parent = sandbox.engagement.get(body.in_reply_to_id)
        if parent is None or parent.post_id != post_id:
            raise SandboxError(404, "not_found", f"no comment {body.in_reply_to_id} on post {post_id}")
    comment = sandbox.engagement.add_comment(
        Comment(
            id="c_" + secrets.token_hex(8),
            account_id=post.account_id,
            post_id=post.id,
            kind="reply" if body.in_reply_to_id and body.kind == "comment" else body.kind,
            author_id="u_" + secrets.token_hex(4),
            author_name=body.author_name,
            text=body.text,
            language=body.language,
            parent_id=body.in_reply_to_id,
            created_at=sandbox.clock.now(),
        )
    )
    await _announce(sandbox, background, body.webhook, "comment.created", comment_item(comment))
    return comment_item(comment)


@control.patch("/comments/{comment_id}")
async def edit_comment(
    comment_id: str, body: CommentChange, background: BackgroundTasks, sandbox: SandboxDep
) -> dict[str, Any]:
    comment = sandbox.engagement.get(comment_id)
    if comment is None or comment.deleted:
        raise SandboxError(404, "not_found", f"no comment {comment_id}")
    comment.text, comment.edited_at = body.text, sandbox.clock.now()
    await _announce(sandbox, background, body.webhook, "comment.updated", comment_item(comment))
    return comment_item(comment)


@control.delete("/comments/{comment_id}")
async def delete_comment(
    comment_id: str, background: BackgroundTasks, sandbox: SandboxDep, webhook: bool = True
) -> dict[str, Any]:
    comment = sandbox.engagement.get(comment_id)
    if comment is None:
        raise SandboxError(404, "not_found", f"no comment {comment_id}")
    comment.deleted, comment.edited_at = True, sandbox.clock.now()
    await _announce(sandbox, background, webhook, "comment.deleted", comment_item(comment))
    return comment_item(comment)


@control.post("/accounts/{account_id}/reviews", status_code=201)
async def make_review(
    account_id: str, body: ReviewRequest, background: BackgroundTasks, sandbox: SandboxDep
) -> dict[str, Any]:
    if sandbox.accounts.get(account_id) is None:
        raise SandboxError(404, "not_found", f"no account {account_id}")
    review = sandbox.engagement.add_review(
        Review(
            id="r_" + secrets.token_hex(8),
            account_id=account_id,
            reviewer_name=body.reviewer_name,
            rating=body.rating,
            text=body.text,
            language=body.language,
            created_at=sandbox.clock.now(),
        )
    )
    await _announce(sandbox, background, body.webhook, "review.created", review_item(review))
    return review_item(review)


@control.get("/posts/{post_id}/comments")
async def all_comments(post_id: str, sandbox: SandboxDep) -> ItemList:
    """What is on a post, for a test to see a reply there exactly once."""
    return ItemList(items=[comment_item(c) for c in sandbox.engagement.on_post(post_id)])


@control.get("/replies/counts")
async def reply_counts(sandbox: SandboxDep) -> dict[str, int]:
    """How many replies each comment or review got: any count above 1 is a duplicate reply."""
    return sandbox.engagement.reply_counts()
