"""connections.post_published / post_failed -> the target's fate: done, retry later, hold, or fail."""

from __future__ import annotations

from datetime import datetime, timedelta

from aligned_common.db import UnitOfWork
from aligned_common.events.connections import PostFailed, PostPublished
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.domain.retry import retry_delay
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.finishing import check_finished, finish_if_done
from aligned_publishing.service_layer.holds import hold_connection

# Failures that are about the account, not the post: wait for the connection to be fixed.
CONNECTION_FAILURES = {"connection_expired", "connection_revoked", "auth_failure"}


async def _locked(uow: UnitOfWork, data) -> tuple[repo.Record, list[repo.Record], repo.Record] | None:
    """The job, its targets and the one this answer is about, all locked (job first)."""
    job, targets = await repo.lock_job_and_targets(uow.conn, data.job_id)
    for target in targets:
        if target["target_id"] == data.target_id and target["idempotency_key"] == data.idempotency_key:
            return job, targets, target
    return None


def _replaced(targets: list[repo.Record], changed: dict) -> list:
    return [changed if t["target_id"] == changed["target_id"] else t for t in targets]


# Each outcome is four round trips: BEGIN with the inbox row, the locks with every row it
# decides from, all its writes in one statement (repo.Writes), COMMIT (docs/performance.md).
async def on_post_published(uow: UnitOfWork, deps: Deps, data: PostPublished) -> None:
    found = await _locked(uow, data)
    # A post that went out is a fact even if it answers an older attempt (we had given up
    # waiting, or a retry is pending): record it, never post again.
    if found is None or found[2]["status"] == TargetStatus.PUBLISHED:
        return
    job, targets, target = found
    now = deps.clock.now()
    writes = repo.Writes()
    changed = writes.update_target(
        target,
        now,
        status=TargetStatus.PUBLISHED.value,
        next_attempt_at=None,
        remote_id=data.remote_id,
        url=data.url,
        last_error=None,
        held_reason=None,
    )
    writes.record_attempt(target, data.attempt, now, "published", remote_id=data.remote_id, url=data.url)
    finish_if_done(uow, writes, job, _replaced(targets, changed), now)
    await writes.run(uow.conn)


async def on_post_failed(uow: UnitOfWork, deps: Deps, data: PostFailed) -> None:
    found = await _locked(uow, data)
    if found is None:
        return
    job, targets, target = found
    # Only the answer to the attempt in flight decides; a late answer to an older one is history.
    if target["status"] != TargetStatus.PUBLISHING or target["attempts"] != data.attempt:
        return
    now = deps.clock.now()
    error = f"{data.reason}" + (f": {data.platform_message}" if data.platform_message else "")
    if data.reason in CONNECTION_FAILURES:
        # Rare, and it holds the connection's targets in every job: step by step.
        await repo.record_attempt(
            uow.conn, target, data.attempt, now, "held", error=error, platform_message=data.platform_message
        )
        await hold_connection(uow, deps, job["brand_id"], data.connection_id, data.reason, now)
        await check_finished(uow, await repo.load_job(uow.conn, job["job_id"]), now)
        return
    writes = repo.Writes()
    if data.retryable and target["attempts"] <= job["max_retries"]:
        job, changed = _schedule_retry(writes, deps, job, target, data, error, now)
    else:
        job, changed = _fail(writes, job, target, data, error, now)
    finish_if_done(uow, writes, job, _replaced(targets, changed), now)
    await writes.run(uow.conn)


def _schedule_retry(
    writes: repo.Writes, deps: Deps, job, target, data: PostFailed, error: str, now: datetime
):
    delay = retry_delay(
        data.attempt,
        base_s=deps.settings.retry_base_s,
        cap_s=deps.settings.retry_cap_s,
        retry_after_s=data.retry_after_s,
    )
    retry_at = now + timedelta(seconds=delay)
    changed = writes.update_target(
        target,
        now,
        status=TargetStatus.SCHEDULED.value,
        next_attempt_at=retry_at,
        due_at=retry_at,
        last_error=error,
        platform_message=data.platform_message,
    )
    writes.record_attempt(
        target,
        data.attempt,
        now,
        "retry_scheduled",
        error=error,
        platform_message=data.platform_message,
        retry_at=retry_at,
    )
    return writes.update_job(job, now, retry_count=job["retry_count"] + 1, last_error=error), changed


def _fail(writes: repo.Writes, job, target, data: PostFailed, error: str, now: datetime):
    if data.retryable:
        error = f"gave up after {data.attempt} attempts; last: {error}"
    changed = writes.update_target(
        target,
        now,
        status=TargetStatus.FAILED.value,
        next_attempt_at=None,
        last_error=error,
        platform_message=data.platform_message,
    )
    writes.record_attempt(
        target, data.attempt, now, "failed", error=error, platform_message=data.platform_message
    )
    return writes.update_job(job, now, last_error=error), changed
