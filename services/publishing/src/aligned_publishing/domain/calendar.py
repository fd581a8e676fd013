"""The calendar feed: a brand's scheduled posts (or what waits for approval) as RFC 5545 (no I/O).

A feed is reached by a secret URL, `/calendar/<token>.ics`, that a calendar app polls without
logging in. The token is 32 random bytes; we keep only its sha256, so the table does not hold
a usable URL, and revoking the feed (a row's `revoked_at`) ends the URL at once (ADR 0023).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from icalendar import Calendar, Event

from aligned_publishing.domain.status import JobStatus

PRODID = "-//Aligned//Calendar feed//EN"
EVENT_LENGTH = timedelta(minutes=15)  # a post is a moment; calendars show it as a short slot
SUMMARY_CHARS = 80
# What a calendar shows as a confirmed slot, a tentative one, or a cancelled one.
_TENTATIVE = {JobStatus.DRAFT, JobStatus.PENDING_APPROVAL, JobStatus.CHANGES_REQUESTED}
_CANCELLED = {JobStatus.CANCELLED, JobStatus.FAILED}


class FeedScope(StrEnum):
    BRAND = "brand"  # every scheduled post of the brand
    APPROVALS = "approvals"  # the posts waiting for approval: what an approver must decide


@dataclass(frozen=True)
class FeedJob:
    """What a calendar entry shows of a job."""

    job_id: uuid.UUID
    content: str
    status: JobStatus
    scheduled_at: datetime
    updated_at: datetime
    version: int
    platforms: tuple[str, ...]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def render(name: str, scope: FeedScope, jobs: Sequence[FeedJob]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add(
        "x-wr-calname", f"{name}: {'waiting for approval' if scope is FeedScope.APPROVALS else 'posts'}"
    )
    for job in jobs:
        calendar.add_component(_event(job))
    return bytes(calendar.to_ical())


def _event(job: FeedJob) -> Event:
    event = Event()
    event.add("uid", f"{job.job_id}@aligned")
    event.add("dtstamp", job.updated_at)
    event.add("last-modified", job.updated_at)
    event.add("sequence", job.version)  # a reschedule or an edit updates the entry in place
    event.add("dtstart", job.scheduled_at)
    event.add("dtend", job.scheduled_at + EVENT_LENGTH)
    first_line = job.content.strip().splitlines()[0] if job.content.strip() else "(no text yet)"
    summary = first_line if len(first_line) <= SUMMARY_CHARS else first_line[: SUMMARY_CHARS - 1] + "…"
    event.add("summary", f"[{job.status.value.replace('_', ' ')}] {summary}")
    accounts = ", ".join(job.platforms) or "no account"
    event.add(
        "description", f"{job.content}\n\nTo: {accounts}\nStatus: {job.status.value}\nJob: {job.job_id}"
    )
    if job.status in _CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "TENTATIVE" if job.status in _TENTATIVE else "CONFIRMED")
    return event
