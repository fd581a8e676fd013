"""publishing.attempt_requested -> one post on the platform, never two.

The rules, in order:
1. A key that already succeeded is answered with the stored post: no platform call.
2. An expired or revoked connection is answered post_failed with that reason: no call.
3. The request is recorded under its idempotency key and leased (in_flight) in a short
   transaction of its own that COMMITS BEFORE the platform is called, so that whatever happens
   next (a crash, a lost answer, a redelivery) the record shows a call may be under way.
4. A record that says a call may have landed (unknown, or in_flight with a lapsed lease) is
   settled by asking the platform (get_post_status with a known id, or the account's recent
   posts searched for the post's text) before any new call.
5. A lost answer (UnknownOutcome) is never re-sent in the same handling: the record says
   unknown, publishing is told to come back later, and the next handling asks first.
No transaction is open and no pooled connection held while the platform is called: the claim
commits before the call, and the outcome and its event commit after it in the inbox entry's
own transaction (`InboxEntry.finish`), with the event's id marked processed, so they commit
together. Calls in flight are capped per platform (`platform_max_in_flight`), and an account's
rate bucket (blocked by a Retry-After) is consulted in the claim.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import httpx

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import PostFailed, PostFailureReason, PostPublished
from aligned_common.events.publishing import AttemptRequested
from aligned_common.inbox import InboxEntry
from aligned_connections.adapters.platforms import (
    AuthFailure,
    MediaAttachment,
    NotSupported,
    PlatformAdapter,
    PlatformError,
    PublishedPost,
    PublishRequest,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.models import PostState
from aligned_connections.domain import rate_limit
from aligned_connections.domain.attempts import (
    AttemptRecord,
    AttemptStatus,
    Next,
    next_step,
    status_when_nothing_sent,
)
from aligned_connections.domain.connection import Connection, Status, publish_refusal
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.ports import UnitOfWork
from aligned_connections.service_layer.tokens import RefreshResult, mark_dead, refresh_connection

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one handling found out, to be written with its event."""

    status: AttemptStatus
    reason: PostFailureReason | None = None  # None: published
    retryable: bool = False
    retry_after_s: float | None = None
    platform_message: str | None = None
    error: str | None = None
    post: PublishedPost | None = None
    calls: int = 0  # publish calls made in this handling
    rate_limited_for_s: float | None = None  # the platform's Retry-After, for the bucket
    remote_id_hint: str | None = None  # an id the platform fixed in advance (UnknownOutcome)


@dataclass
class Claim:
    step: Next | None  # None: answered (or ignored) before any record was made
    wait_s: float | None = None
    record: AttemptRecord | None = None
    connection: Connection | None = None
    refusal: Outcome | None = None  # answer post_failed without a call
    ignore: bool = False


async def handle_attempt_requested(
    deps: Deps, entry: InboxEntry, envelope: EventEnvelope, data: AttemptRequested
) -> None:
    """Runs with no transaction open (the inbox route is `transaction=False`): the claim is one
    short transaction, committed before the call; the outcome another; no pooled connection is
    held while the platform answers."""
    claim = await _claim(deps, envelope, data)
    if claim.ignore:
        log.info(
            "ignoring an attempt for an unknown connection",
            extra={"ctx_connection_id": str(data.connection_id)},
        )
        return
    if claim.refusal is not None:
        async with deps.finish(entry) as uow:
            await _answer_failed(uow, envelope, data, claim.refusal)
        return
    if claim.step is Next.ANSWER_PUBLISHED:
        assert claim.record is not None and claim.record.remote_id is not None
        async with deps.finish(entry) as uow:
            await _answer_published(
                uow, envelope, data, PublishedPost(remote_id=claim.record.remote_id, url=claim.record.url)
            )
        return
    if claim.step is Next.ANSWER_REJECTED:
        assert claim.record is not None
        outcome = Outcome(AttemptStatus.REJECTED, "rejected", platform_message=claim.record.platform_message)
        async with deps.finish(entry) as uow:
            await _answer_failed(uow, envelope, data, outcome)
        return
    if claim.step is Next.BUSY or claim.wait_s is not None:
        # Another worker holds the key, or the account must slow down: come back later.
        reason: PostFailureReason = "rate_limited" if claim.step is not Next.BUSY else "retryable"
        message = (
            "another attempt with this key is in progress"
            if claim.step is Next.BUSY
            else "account rate limit"
        )
        outcome = Outcome(
            AttemptStatus.PENDING, reason, True, max(0.1, claim.wait_s or 1.0), platform_message=message
        )
        async with deps.finish(entry) as uow:
            await _answer_failed(uow, envelope, data, outcome)
        return
    connection = claim.connection
    assert connection is not None  # a claim to send or reconcile names its connection
    try:
        async with deps.platform_slot(connection.platform):  # the per-platform cap on calls in flight
            outcome = await _call_platform(deps, connection, data, claim)
    except Exception as error:
        # Not an answer the adapters know (a bug, a failure of ours mid-call): the inbox retries,
        # and a lease left to lapse would make that retry wait it out (BUSY, 60 s). The call may
        # have landed, so the record says unknown: the retry asks the platform before it sends.
        await _release_lease(deps, envelope.brand_id, data.idempotency_key, error)
        raise
    async with deps.finish(entry) as uow:  # the outcome and its event, in a transaction of their own
        await _record(uow, envelope, data, connection, outcome)


async def _release_lease(deps: Deps, brand_id: uuid.UUID, key: str, error: Exception) -> None:
    try:
        async with deps.uow(brand_id) as uow:
            await uow.attempts.release_lease(key, f"unexpected: {error!r}"[:1000])
    except Exception:  # the database is what failed: the lease then lapses as it would after a crash
        log.warning(
            "could not release the lease of a failed attempt",
            extra={"ctx_idempotency_key": key},
            exc_info=True,
        )


async def _claim(deps: Deps, envelope: EventEnvelope, data: AttemptRequested) -> Claim:
    """Check, record and lease the key, in one transaction committed before any platform call:
    on the usual path four statements (connection, record + lock, bucket, bucket + lease)."""
    settings = deps.settings
    brand_id = envelope.brand_id
    async with deps.uow(brand_id) as uow:
        connection = await uow.connections.get(brand_id, data.connection_id)
        known = connection is not None and connection.platform == data.platform
        refusal = publish_refusal(connection.status) if connection is not None and known else None
        if connection is None or not known or refusal is not None:
            # A key that already succeeded is answered with its post, even if the connection went since.
            existing = await uow.attempts.get(data.idempotency_key)
            if existing is not None and existing.status is AttemptStatus.PUBLISHED:
                return Claim(Next.ANSWER_PUBLISHED, record=existing)
            if connection is None or not known:
                if not settings.answer_unknown_connections:
                    return Claim(None, ignore=True)
                message = f"no {data.platform} connection {data.connection_id} in this brand"
                return Claim(
                    None, refusal=Outcome(AttemptStatus.FAILED, "rejected", platform_message=message)
                )
            message = connection.last_error or f"the connection is {connection.status.value}"
            assert refusal is not None
            return Claim(None, refusal=Outcome(AttemptStatus.FAILED, refusal, platform_message=message))
        # One claimer at a time: the record comes back locked for this transaction.
        record = await uow.attempts.record_and_lock(brand_id, envelope.tenant_id, data)
        step = next_step(record)
        if step not in (Next.SEND, Next.RECONCILE):
            return Claim(step, record.lease_remaining_s if step is Next.BUSY else None, record, connection)
        bucket, now = await uow.attempts.lock_bucket(connection.id, brand_id, settings.rate_limit_capacity)
        decision = rate_limit.take(
            bucket, now, settings.rate_limit_capacity, settings.rate_limit_refill_per_s
        )
        if not decision.allowed:
            await uow.attempts.store_bucket(connection.id, decision.tokens, now)
            return Claim(step, decision.wait_s, record, connection)
        await uow.attempts.take_lease(
            data.idempotency_key,
            data.attempt,
            settings.publish_lease_s,
            bucket=(connection.id, decision.tokens, now),
        )
    return Claim(step, None, record, connection)


async def _call_platform(deps: Deps, connection: Connection, data: AttemptRequested, claim: Claim) -> Outcome:
    adapter = deps.platform(connection.platform)
    idle_status = status_when_nothing_sent(claim.step)
    token = await _usable_token(deps, connection)
    if isinstance(token, Outcome):
        token.status = idle_status
        return token
    try:
        media = await _download_media(deps, data)
    except httpx.HTTPError as error:
        return Outcome(
            idle_status, "retryable", True, deps.settings.default_retry_after_s, error=f"media: {error!r}"
        )
    request = PublishRequest(
        text=data.text, media=media, idempotency_key=data.idempotency_key, account_id=connection.account_id
    )
    for tries_left in (1, 0):
        try:
            return await _settle_then_publish(deps, adapter, token, connection, data, request, claim)
        except AuthFailure as refused:
            # A 401 makes nothing: refresh once and go again; a second refusal ends it.
            if tries_left == 0:
                return await _connection_refused(deps, connection, refused, idle_status)
            refreshed = await refresh_connection(deps, connection.brand_id, connection.id)
            if refreshed.kind != "refreshed":
                return await _refresh_did_not_help(deps, connection, refreshed, refused, idle_status)
            assert refreshed.access_token is not None  # "refreshed" carries the new token
            token = refreshed.access_token
    raise AssertionError("unreachable")


async def _settle_then_publish(
    deps: Deps,
    adapter: PlatformAdapter,
    token: str,
    connection: Connection,
    data: AttemptRequested,
    request: PublishRequest,
    claim: Claim,
) -> Outcome:
    idle_status = status_when_nothing_sent(claim.step)
    if claim.step is Next.RECONCILE:
        assert claim.record is not None
        try:
            found = await _look_for_post(deps, adapter, token, connection, data, claim.record.remote_id)
        except AuthFailure:
            raise
        except PlatformError as failure:
            return _transient(deps, failure, AttemptStatus.UNKNOWN, "unknown_outcome")
        if found is not None:
            return Outcome(AttemptStatus.PUBLISHED, post=found)
        if not data.text.strip() and claim.record.remote_id is None:
            # Nothing to recognise the post by: a person must look before we post again.
            message = (
                "the outcome of an earlier call is unknown and cannot be checked for a post without text"
            )
            return Outcome(AttemptStatus.UNKNOWN, "unknown_outcome", False, platform_message=message)
        idle_status = AttemptStatus.FAILED  # settled: nothing landed, a call is safe again
    try:
        post = await adapter.publish(token, request)
    except UnknownOutcome as lost:
        return await _after_lost_answer(deps, adapter, token, connection, data, lost)
    except Rejected as refused:
        return Outcome(
            AttemptStatus.REJECTED,
            "rejected",
            calls=1,
            platform_message=refused.platform_message,
            error=str(refused),
        )
    except NotSupported as refused:
        return Outcome(AttemptStatus.REJECTED, "rejected", calls=1, error=str(refused))
    except AuthFailure:
        raise
    except Retryable as failure:
        return _after_retryable(deps, failure, idle_status)
    except PlatformError as failure:
        return _transient(deps, failure, AttemptStatus.UNKNOWN, "retryable", calls=1)
    return Outcome(AttemptStatus.PUBLISHED, post=post, calls=1)


async def _after_lost_answer(
    deps: Deps,
    adapter: PlatformAdapter,
    token: str,
    connection: Connection,
    data: AttemptRequested,
    lost: UnknownOutcome,
) -> Outcome:
    """Ask once straight away; if the post is not visible yet, do NOT send again now."""
    try:
        found = await _look_for_post(deps, adapter, token, connection, data, lost.remote_id)
    except PlatformError:
        found = None
    if found is not None:
        return Outcome(AttemptStatus.PUBLISHED, post=found, calls=1)
    outcome = _transient(deps, lost, AttemptStatus.UNKNOWN, "unknown_outcome", calls=1)
    outcome.remote_id_hint = lost.remote_id
    return outcome


def _after_retryable(deps: Deps, failure: Retryable, idle_status: AttemptStatus) -> Outcome:
    if failure.status_code == 429:
        wait = failure.retry_after if failure.retry_after is not None else deps.settings.default_retry_after_s
        outcome = _transient(deps, failure, idle_status, "rate_limited", calls=1)
        outcome.retry_after_s = max(wait, 0.1)
        outcome.rate_limited_for_s = wait
        return outcome
    if failure.status_code is not None and failure.status_code >= 500:
        # A platform can fail after it stored the post: ask before the next call.
        return _transient(deps, failure, AttemptStatus.UNKNOWN, "retryable", calls=1)
    return _transient(deps, failure, idle_status, "retryable", calls=1)  # never reached the platform


def _transient(
    deps: Deps, failure: PlatformError, status: AttemptStatus, reason: PostFailureReason, calls: int = 0
) -> Outcome:
    retry_after = getattr(failure, "retry_after", None)
    return Outcome(
        status,
        reason,
        True,
        retry_after if retry_after is not None else deps.settings.default_retry_after_s,
        platform_message=failure.platform_message,
        error=str(failure),
        calls=calls,
    )


async def _look_for_post(
    deps: Deps,
    adapter: PlatformAdapter,
    token: str,
    connection: Connection,
    data: AttemptRequested,
    remote_id: str | None,
) -> PublishedPost | None:
    if remote_id is not None:
        status = await adapter.get_post_status(token, remote_id)
        if status is None or status.state is not PostState.PUBLISHED:
            return None
        return PublishedPost(remote_id=status.remote_id, url=status.url)
    if not data.text.strip():
        return None
    found = await adapter.find_post_by_marker(token, data.text.strip())
    if found is None:
        return None
    async with deps.uow(connection.brand_id) as uow:
        # The same text posted earlier by another job of ours is not this post.
        if await uow.attempts.remote_id_taken(connection.id, found.remote_id, data.idempotency_key):
            return None
    return found


async def _usable_token(deps: Deps, connection: Connection) -> str | Outcome:
    """The access token, refreshed first when it is about to expire."""
    margin = deps.settings.inline_refresh_margin_s
    if not connection.needs_refresh_before_use(deps.clock.now(), margin):
        return _access_token(deps, connection)
    refreshed = await refresh_connection(deps, connection.brand_id, connection.id, unless_valid_for_s=margin)
    if refreshed.kind in ("refreshed", "fresh", "no_refresh_token") and refreshed.access_token is not None:
        return refreshed.access_token
    if refreshed.kind == "transient":
        # The old token may still work for a moment; if not, the platform will say 401.
        return _access_token(deps, connection)
    status = refreshed.connection.status if refreshed.connection else Status.EXPIRED
    return Outcome(
        AttemptStatus.FAILED,
        publish_refusal(status) or "connection_expired",
        platform_message=refreshed.error,
    )


async def _refresh_did_not_help(
    deps: Deps,
    connection: Connection,
    refreshed: RefreshResult,
    refused: AuthFailure,
    idle_status: AttemptStatus,
) -> Outcome:
    if refreshed.kind == "transient":
        return Outcome(
            idle_status,
            "auth_failure",
            True,
            refreshed.retry_after_s,
            platform_message=refused.platform_message,
            error=refreshed.error,
        )
    if refreshed.kind == "no_refresh_token":
        return await _connection_refused(deps, connection, refused, idle_status)
    return Outcome(
        idle_status, "connection_expired", platform_message=refreshed.error or refused.platform_message
    )


async def _connection_refused(
    deps: Deps, connection: Connection, refused: AuthFailure, idle_status: AttemptStatus
) -> Outcome:
    """Even a fresh token is refused: the connection is dead until the user connects again."""
    async with deps.uow(connection.brand_id) as uow:
        current = await uow.connections.get(connection.brand_id, connection.id, lock=True)
        if current is not None and current.status is Status.CONNECTED:
            await mark_dead(uow, current, Status.EXPIRED, refused.platform_message or str(refused))
    return Outcome(
        idle_status, "connection_expired", platform_message=refused.platform_message, error=str(refused)
    )


async def _download_media(deps: Deps, data: AttemptRequested) -> tuple[MediaAttachment, ...]:
    # Nothing is downloaded here: the adapters stream each item from its presigned URL into
    # the platform's upload (adapters/platforms/media.py), so no video is held in memory.
    attachments: list[MediaAttachment] = []
    for item in data.media:
        if item.size_bytes > deps.settings.media_max_bytes:
            raise httpx.HTTPError(
                f"media {item.media_id} is larger than {deps.settings.media_max_bytes} bytes"
            )
        attachments.append(
            MediaAttachment(
                url=item.url, size_bytes=item.size_bytes, mime_type=item.mime_type, alt_text=item.alt_text
            )
        )
    return tuple(attachments)


async def _record(
    uow: UnitOfWork, envelope: EventEnvelope, data: AttemptRequested, connection: Connection, outcome: Outcome
) -> None:
    post = outcome.post
    await uow.attempts.settle(
        data.idempotency_key,
        outcome.status,
        calls=outcome.calls,
        remote_id=post.remote_id if post else outcome.remote_id_hint,
        url=post.url if post else None,
        error=outcome.error[:1000] if outcome.error else None,
        platform_message=outcome.platform_message[:1000] if outcome.platform_message else None,
    )
    if outcome.rate_limited_for_s is not None:
        await uow.attempts.block_bucket(connection.id, outcome.rate_limited_for_s)
    if post is not None:
        await _answer_published(uow, envelope, data, post)
    else:
        await _answer_failed(uow, envelope, data, outcome)


async def _answer_published(
    uow: UnitOfWork, envelope: EventEnvelope, data: AttemptRequested, post: PublishedPost
) -> None:
    await uow.emit(
        PostPublished(
            job_id=data.job_id,
            target_id=data.target_id,
            connection_id=data.connection_id,
            platform=data.platform,
            idempotency_key=data.idempotency_key,
            attempt=data.attempt,
            remote_id=post.remote_id,
            url=post.url,
        ),
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        subject=str(data.job_id),
    )


async def _answer_failed(
    uow: UnitOfWork, envelope: EventEnvelope, data: AttemptRequested, outcome: Outcome
) -> None:
    await uow.emit(
        PostFailed(
            job_id=data.job_id,
            target_id=data.target_id,
            connection_id=data.connection_id,
            platform=data.platform,
            idempotency_key=data.idempotency_key,
            attempt=data.attempt,
            retryable=outcome.retryable,
            reason=outcome.reason or "retryable",
            retry_after_s=outcome.retry_after_s if outcome.retryable else None,
            platform_message=outcome.platform_message or outcome.error,
        ),
        brand_id=envelope.brand_id,
        tenant_id=envelope.tenant_id,
        subject=str(data.job_id),
    )


def _access_token(deps: Deps, connection: Connection) -> str:
    token = deps.vault.access_token(connection)
    if token is None:  # only a disconnected connection has none, and it is refused before this
        raise RuntimeError(f"connection {connection.id} has no access token")
    return token
