"""connections.post_published / post_failed -> the target's fate: done, retry later, hold, or fail."""

from __future__ import annotations

from datetime import datetime, timedelta

from aligned_common.db import UnitOfWork
from aligned_common.events.connections import PostFailed, PostPublished

from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.retry import retry_delay
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.finishing import finish_if_done
from aligned_publishing.service_layer.holds import hold_connection

# Failures that are about the account, not the post: wait for the connection to be fixed.
CONNECTION_FAILURES = {"connection_expired", "connection_revoked", "auth_failure"}


async def _job_and_target(uow: UnitOfWork, data) -> tuple[repo.Record, repo.Record] | None:
    job = await repo.load_job(uow.conn, data.job_id, for_update=True)  # lock order: job, then target
    if job is None:
        return None
    target = await uow.conn.fetchrow(
        "SELECT * FROM publishing_targets WHERE target_id = $1 AND job_id = $2 FOR UPDATE",
        data.target_id,
        job["job_id"],
    )
    if target is None or target["idempotency_key"] != data.idempotency_key:
        return None
    return job, target


async def on_post_published(uow: UnitOfWork, deps: Deps, data: PostPublished) -> None:
    found = await _job_and_target(uow, data)
    # A post that went out is a fact even if it answers an older attempt (we had given up
    # waiting, or a retry is pending): record it, never post again.
    if found is None or found[1]["status"] == TargetStatus.PUBLISHED:
        return
    job, target = found
    now = deps.clock.now()
    await repo.update_target(
        uow.conn,
        target["target_id"],
        now,
        status=TargetStatus.PUBLISHED.value,
        next_attempt_at=None,
        remote_id=data.remote_id,
        url=data.url,
        last_error=None,
        held_reason=None,
    )
    await repo.record_attempt(uow.conn, target, data.attempt, now, "published", remote_id=data.remote_id, url=data.url)
    await finish_if_done(uow, job, now)


async def on_post_failed(uow: UnitOfWork, deps: Deps, data: PostFailed) -> None:
    found = await _job_and_target(uow, data)
    if found is None:
        return
    job, target = found
    # Only the answer to the attempt in flight decides; a late answer to an older one is history.
    if target["status"] != TargetStatus.PUBLISHING or target["attempts"] != data.attempt:
        return
    now = deps.clock.now()
    error = f"{data.reason}" + (f": {data.platform_message}" if data.platform_message else "")
    if data.reason in CONNECTION_FAILURES:
        await repo.record_attempt(
            uow.conn, target, data.attempt, now, "held", error=error, platform_message=data.platform_message
        )
        await hold_connection(uow, deps, job["brand_id"], data.connection_id, data.reason, now)
    elif data.retryable and target["attempts"] <= job["max_retries"]:
        await _schedule_retry(uow, deps, job, target, data, error, now)
    else:
        await _fail(uow, job, target, data, error, now)
    job = await repo.load_job(uow.conn, job["job_id"])
    await finish_if_done(uow, job, now)


async def _schedule_retry(uow, deps: Deps, job, target, data: PostFailed, error: str, now: datetime) -> None:
    delay = retry_delay(
        data.attempt,
        base_s=deps.settings.retry_base_s,
        cap_s=deps.settings.retry_cap_s,
        retry_after_s=data.retry_after_s,
    )
    retry_at = now + timedelta(seconds=delay)
    await repo.update_target(
        uow.conn,
        target["target_id"],
        now,
        status=TargetStatus.SCHEDULED.value,
        next_attempt_at=retry_at,
        due_at=retry_at,
        last_error=error,
        platform_message=data.platform_message,
    )
    await repo.record_attempt(
        uow.conn,
        target,
        data.attempt,
        now,
        "retry_scheduled",
        error=error,
        platform_message=data.platform_message,
        retry_at=retry_at,
    )
    await repo.update_job(uow.conn, job["job_id"], now, retry_count=job["retry_count"] + 1, last_error=error)


async def _fail(uow, job, target, data: PostFailed, error: str, now: datetime) -> None:
    if data.retryable:
        error = f"gave up after {data.attempt} attempts; last: {error}"
    await repo.update_target(
        uow.conn,
        target["target_id"],
        now,
        status=TargetStatus.FAILED.value,
        next_attempt_at=None,
        last_error=error,
        platform_message=data.platform_message,
    )
    await repo.record_attempt(
        uow.conn, target, data.attempt, now, "failed", error=error, platform_message=data.platform_message
    )
    await repo.update_job(uow.conn, job["job_id"], now, last_error=error)
