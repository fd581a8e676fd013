"""connections.post_published / post_failed -> the target's fate: done, retry later, hold, or fail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from aligned_common.events.connections import PostFailed, PostPublished
from aligned_publishing.adapters import jobs_repo as repo
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.domain.job import check_target_transition
from aligned_publishing.domain.retry import Failure, decide_failure, retry_delay
from aligned_publishing.domain.status import TargetStatus
from aligned_publishing.service_layer import comments
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.finishing import check_finished, finish_if_done
from aligned_publishing.service_layer.holds import hold_connection

Row = Mapping[str, Any]


async def _locked(
    uow: SqlUnitOfWork, data: PostPublished | PostFailed
) -> tuple[dict[str, Any], list[repo.Record], repo.Record] | None:
    """The job, its targets and the one this answer is about, all locked (job first)."""
    job, targets = await uow.targets.lock_job_and_targets(data.job_id)
    if job is None:
        return None
    for target in targets:
        if target["target_id"] == data.target_id and target["idempotency_key"] == data.idempotency_key:
            return job, targets, target
    return None


def _replaced(targets: Sequence[Row], changed: Row) -> list[Row]:
    return [changed if t["target_id"] == changed["target_id"] else t for t in targets]


# Each outcome is four round trips: BEGIN with the inbox row, the locks with every row it
# decides from, all its writes in one statement (repo.Writes), COMMIT (docs/performance.md).
async def on_post_published(uow: SqlUnitOfWork, deps: Deps, data: PostPublished) -> None:
    if comments.is_comment(data.idempotency_key):
        await comments.on_published(uow, deps, data)
        return
    found = await _locked(uow, data)
    # A post that went out is a fact even if it answers an older attempt (we had given up
    # waiting, or a retry is pending): record it, never post again.
    if found is None or found[2]["status"] == TargetStatus.PUBLISHED:
        return
    job, targets, target = found
    check_target_transition(target["status"], TargetStatus.PUBLISHED)
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
    await uow.targets.write(writes)
    if target["has_first_comment"]:  # on the row: a post without one costs no query more
        await comments.after_post_published(uow, deps, target["target_id"], now)


async def on_post_failed(uow: SqlUnitOfWork, deps: Deps, data: PostFailed) -> None:
    if comments.is_comment(data.idempotency_key):
        await comments.on_failed(uow, deps, data)
        return
    found = await _locked(uow, data)
    if found is None:
        return
    job, targets, target = found
    failure = decide_failure(
        target_status=target["status"],
        target_attempts=target["attempts"],
        answered_attempt=data.attempt,
        reason=data.reason,
        retryable=data.retryable,
        max_retries=job["max_retries"],
    )
    if failure is Failure.STALE:
        return
    now = deps.clock.now()
    error = f"{data.reason}" + (f": {data.platform_message}" if data.platform_message else "")
    if failure is Failure.HOLD:
        # Rare, and it holds the connection's targets in every job: step by step.
        await uow.targets.record_attempt(
            target, data.attempt, now, "held", error=error, platform_message=data.platform_message
        )
        await hold_connection(uow, deps, job["brand_id"], data.connection_id, data.reason, now)
        await check_finished(uow, await uow.targets.job_row(job["job_id"]), now)
        return
    writes = repo.Writes()
    if failure is Failure.RETRY:
        job, changed = _schedule_retry(writes, deps, job, target, data, error, now)
    else:
        job, changed = _fail(writes, job, target, data, error, now)
    finish_if_done(uow, writes, job, _replaced(targets, changed), now)
    await uow.targets.write(writes)


def _schedule_retry(
    writes: repo.Writes, deps: Deps, job: Row, target: Row, data: PostFailed, error: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
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


def _fail(
    writes: repo.Writes, job: Row, target: Row, data: PostFailed, error: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
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
