"""The record of a publish under its idempotency key, and what a new request for it may do.

pending   -> recorded, nothing sent yet (e.g. the account's rate limit said wait)
in_flight -> a worker is calling the platform now (until lease_until)
unknown   -> a call may have landed: ask the platform before any new call
failed    -> the last call surely made nothing (refused before acting): a new call is safe
published -> done; the remote id is kept and every later request is answered with it
rejected  -> the platform refused this content for good
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AttemptStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    UNKNOWN = "unknown"
    FAILED = "failed"
    PUBLISHED = "published"
    REJECTED = "rejected"


class Next(StrEnum):
    SEND = "send"  # nothing can have landed: call publish
    RECONCILE = "reconcile"  # something may have landed: look before any publish call
    ANSWER_PUBLISHED = "answer_published"
    ANSWER_REJECTED = "answer_rejected"
    BUSY = "busy"  # another worker holds the key right now


@dataclass(frozen=True)
class AttemptRecord:
    idempotency_key: str
    status: AttemptStatus
    lease_remaining_s: float | None  # None: no lease; <= 0: the lease lapsed
    remote_id: str | None
    url: str | None
    platform_message: str | None
    calls: int


def next_step(record: AttemptRecord) -> Next:
    if record.status is AttemptStatus.PUBLISHED:
        return Next.ANSWER_PUBLISHED
    if record.status is AttemptStatus.REJECTED:
        return Next.ANSWER_REJECTED
    if record.status is AttemptStatus.IN_FLIGHT:
        if record.lease_remaining_s is not None and record.lease_remaining_s > 0:
            return Next.BUSY
        # The worker that held it died mid-call (or its answer never got written): the post
        # may exist.
        return Next.RECONCILE
    if record.status is AttemptStatus.UNKNOWN:
        return Next.RECONCILE
    return Next.SEND  # pending, failed


def status_when_nothing_sent(step: Next | None) -> AttemptStatus:
    """What the record says after a handling that made no publish call: a pending question
    about an earlier call stays open."""
    return AttemptStatus.UNKNOWN if step is Next.RECONCILE else AttemptStatus.FAILED
