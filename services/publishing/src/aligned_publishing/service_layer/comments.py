"""First comments: a reply to a target's post, published right after it.

The comment is an attempt of its own, with its own idempotency key (the target's + ':comment'),
so connections treats it as it treats any post: recorded and leased before the call, a lost
answer settled by asking the platform (find_post_by_marker for the comment's text), never sent
twice. Its first request is written in the same transaction as the post's outcome (when the
post is recorded published, the comment's attempt_requested goes into the outbox with it), so
a crash between the post and the comment neither loses the comment nor posts it twice.
Retries and re-checks after no answer come from a loop (`dispatch_due`), like the targets'.

Approval covers it: the comment is part of the job's content hash, and it is only requested
after its post went out through the gate. A held connection counts as a failed attempt that
is retried with backoff (the comment waits, up to the job's max_retries), not a hold of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from aligned_common.events.connections import PostFailed, PostPublished
from aligned_common.events.publishing import AttemptRequested, ReplyRef
from aligned_publishing.adapters.jobs_repo import COMMENT_KEY_SUFFIX
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.domain.retry import Failure, decide_failure, retry_delay
from aligned_publishing.service_layer.deps import Deps

log = logging.getLogger(__name__)
DUE_BATCH = 100


def is_comment(idempotency_key: str) -> bool:
    return idempotency_key.endswith(COMMENT_KEY_SUFFIX)


async def after_post_published(uow: SqlUnitOfWork, deps: Deps, target_id: Any, now: datetime) -> None:
    """The target's post is recorded published (in this transaction): request its comment."""
    comment = await uow.comments.of_target(target_id)
    if comment is not None and comment["status"] == "waiting":
        await _request(uow, deps, comment, attempt=1, recheck=0, now=now)


async def on_published(uow: SqlUnitOfWork, deps: Deps, data: PostPublished) -> None:
    comment = await uow.comments.by_key(data.idempotency_key)
    if comment is None or comment["status"] == "published":
        return  # a redelivery, or a comment gone with its job: nothing to do
    # A comment that went out is a fact even if it answers an older attempt: record it.
    await uow.comments.update(
        comment["target_id"],
        deps.clock.now(),
        status="published",
        remote_id=data.remote_id,
        url=data.url,
        next_attempt_at=None,
        last_error=None,
        platform_message=None,
    )


async def on_failed(uow: SqlUnitOfWork, deps: Deps, data: PostFailed) -> None:
    comment = await uow.comments.by_key(data.idempotency_key)
    if comment is None:
        return
    failure = decide_failure(
        target_status=comment["status"],
        target_attempts=comment["attempts"],
        answered_attempt=data.attempt,
        reason=data.reason,
        retryable=data.retryable,
        max_retries=comment["max_retries"],
    )
    if failure is Failure.STALE:
        return
    now = deps.clock.now()
    error = data.reason + (f": {data.platform_message}" if data.platform_message else "")
    next_attempt_at: datetime | None = None
    if failure in (Failure.RETRY, Failure.HOLD) and comment["attempts"] <= comment["max_retries"]:
        delay = retry_delay(
            data.attempt,
            base_s=deps.settings.retry_base_s,
            cap_s=deps.settings.retry_cap_s,
            retry_after_s=data.retry_after_s,
        )
        next_attempt_at = now + timedelta(seconds=delay)
    elif data.retryable:
        error = f"gave up after {data.attempt} attempts; last: {error}"
    await uow.comments.update(
        comment["target_id"],
        now,
        status="scheduled" if next_attempt_at is not None else "failed",
        next_attempt_at=next_attempt_at,
        last_error=error,
        platform_message=data.platform_message,
    )


async def dispatch_due(deps: Deps, now: datetime | None = None) -> int:
    """Request every due comment: a retry (a new attempt) or, after no answer within the
    publishing timeout, the same attempt again with the same key (connections answers from
    its record). Returns how many were requested."""
    now = now or deps.clock.now()
    async with deps.sql_uow(role="worker") as uow:  # due comments of every brand, as the dispatcher's
        due = await uow.comments.claim_due(now, DUE_BATCH)
        for comment in due:
            again = comment["status"] == "publishing"
            attempt = comment["attempts"] if again else comment["attempts"] + 1
            recheck = comment["rechecks"] + 1 if again else 0
            await _request(uow, deps, comment, attempt=attempt, recheck=recheck, now=now)
    return len(due)


async def _request(
    uow: SqlUnitOfWork, deps: Deps, comment: Any, *, attempt: int, recheck: int, now: datetime
) -> None:
    parent = comment["post_remote_id"]
    await uow.emit(
        AttemptRequested(
            job_id=comment["job_id"],
            target_id=comment["target_id"],
            platform=comment["platform"],
            connection_id=comment["connection_id"],
            idempotency_key=comment["idempotency_key"],
            attempt=attempt,
            text=comment["text"],
            recheck=recheck,
            reply_to=ReplyRef(parent_remote_id=parent, root_remote_id=parent),
        ),
        brand_id=comment["brand_id"],
        tenant_id=comment["tenant_id"],
        subject=str(comment["job_id"]),
    )
    await uow.comments.update(
        comment["target_id"],
        now,
        status="publishing",
        attempts=attempt,
        rechecks=recheck,
        next_attempt_at=now + timedelta(seconds=deps.settings.publishing_timeout_s),
    )
