"""Polling feed subscriptions: each new entry becomes a post (issue 24, ADR 0028).

`poll_due` claims the due subscriptions of every brand (SKIP LOCKED and a lease, so two replicas
never poll one feed at once) and polls them a few at a time. `poll_one` fetches (conditional:
the last ETag and Last-Modified go back, an unchanged feed is a 304), parses, and then, in one
unit of work of the feed's brand that holds the subscription's row:

- each entry is recorded under its key (guid, else link) first: the unique (feed, key) index
  says whether it is new, so no poll, concurrent or repeated, makes an entry's post twice;
- a new entry's post is made by `jobs.add_new_job`, the path of POST /v1/jobs (content fit,
  the accounts, the gate), and in `scheduled` mode submitted as POST /v1/jobs/{id}/submit
  would (through approval where the brand's policy says so). A post the rules refuse is not
  made; the entry is listed as skipped with the refusal;
- a failed poll (HTTP error, not a feed, too big, refused by the guard, timed out) is recorded
  on the subscription (last_error, consecutive failures) and backs off; a good one clears it.

On its first good poll a subscription records the entries already in the feed as skipped
(unless post_existing): subscribing to a feed with fifty old entries makes no fifty drafts.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from aligned_common.identity import Identity
from aligned_publishing.adapters.feed_fetcher import FetchResult, fetch_feed
from aligned_publishing.adapters.feed_parser import parse_feed
from aligned_publishing.domain.commands import CreateJob, TargetIn
from aligned_publishing.domain.errors import Invalid
from aligned_publishing.domain.feeds import FeedEntry, FeedMode, entry_key, next_poll_at, render, untold_key
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.jobs import add_new_job, submit_in
from aligned_publishing.service_layer.ports import Row, UnitOfWork

log = logging.getLogger(__name__)
FEED_TAG = "rss"  # every post a feed made carries it
# Fetch(url, etag, last_modified): the fetcher bound to the settings (tests pass their own).
Fetch = Callable[[str, str | None, str | None], Awaitable[FetchResult]]
BEFORE_SUBSCRIBING = "in the feed before the subscription's first poll"
UNTOLD = "the entry has neither a guid nor a link, so it cannot be told apart from others"


def fetcher(deps: Deps) -> Fetch:
    async def fetch(url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        settings = deps.settings
        return await fetch_feed(
            url,
            policy=deps.feed_policy(),
            etag=etag,
            last_modified=last_modified,
            max_bytes=settings.feed_max_bytes,
            timeout_s=settings.feed_timeout_s,
        )

    return fetch


async def poll_due(deps: Deps, fetch: Fetch | None = None) -> int:
    """Poll every due subscription (a batch); returns how many were claimed."""
    settings, now = deps.settings, deps.clock.now()
    lease_until = now + timedelta(seconds=settings.feed_timeout_s * 2 + 60)
    async with deps.sql_uow(role="worker") as uow:  # due feeds of every brand
        due = await uow.feeds.claim_due(now, settings.feed_poll_batch, lease_until)
    running = asyncio.Semaphore(settings.feed_poll_concurrency)
    fetch = fetch or fetcher(deps)

    async def one(claimed: dict[str, Any]) -> None:
        async with running:
            try:
                await poll_one(deps, claimed, fetch)
            except Exception:  # one feed's bug must not stop the others; it is due after the lease
                log.exception("polling feed %s failed", claimed["feed_id"])

    await asyncio.gather(*(one(c) for c in due))
    return len(due)


async def poll_one(deps: Deps, claimed: Mapping[str, Any], fetch: Fetch) -> None:
    """Fetch and parse outside any transaction (a slow feed holds no row), then record."""
    result = await fetch(claimed["url"], claimed["etag"], claimed["last_modified"])
    problem, entries = result.problem, None
    if problem is None and result.body is not None:
        parsed = parse_feed(result.body)
        problem, entries = parsed.problem, parsed.entries
    async with deps.uow(claimed["brand_id"]) as uow:
        feed = await uow.feeds.get(claimed["brand_id"], claimed["feed_id"], for_update=True)
        if feed is None or feed["paused"] or feed["url"] != claimed["url"]:
            return  # unsubscribed, paused or moved meanwhile: this answer is of no use
        now = deps.clock.now()
        if problem is not None:
            await _failed(uow, deps, feed, problem, now)
            return
        if entries is not None:
            await _take(uow, deps, feed, entries, now)
        await _succeeded(uow, deps, feed, result, now)


async def _take(
    uow: UnitOfWork, deps: Deps, feed: dict[str, Any], entries: Sequence[FeedEntry], now: datetime
) -> None:
    baseline = feed["last_success_at"] is None and not feed["post_existing"]
    known = await uow.connections.known(feed["brand_id"], feed["connection_ids"])
    # Feeds list the newest first; posts are made oldest first, so their order is the feed's.
    for entry in reversed(entries[: deps.settings.feed_max_entries]):
        key = entry_key(entry)
        skipped = UNTOLD if key is None else BEFORE_SUBSCRIBING if baseline else None
        record = {
            "feed_id": feed["feed_id"],
            "entry_key": key or untold_key(entry),
            "brand_id": feed["brand_id"],
            "title": entry.title[:500],
            "link": (entry.link or "")[:2000] or None,
            # The job's id follows from the entry: one more guard against a second post.
            "job_id": None if skipped else uuid.uuid5(feed["feed_id"], key or ""),
            "skipped": skipped,
            "seen_at": now,
        }
        if not await uow.feeds.record_entry(record) or skipped:
            continue  # seen by an earlier poll (or nothing to post)
        refusal = await _post(uow, deps, feed, entry, known, record["job_id"], now)
        if refusal is not None:
            await uow.feeds.skip_entry(feed["feed_id"], record["entry_key"], refusal)


async def _post(
    uow: UnitOfWork,
    deps: Deps,
    feed: dict[str, Any],
    entry: FeedEntry,
    known: Mapping[uuid.UUID, Row],
    job_id: uuid.UUID,
    now: datetime,
) -> str | None:
    """The entry's post, as its subscriber would make it by hand; the refusal, if refused."""
    author = Identity(feed["tenant_id"], feed["brand_id"], feed["created_by"], "editor")
    scheduled = feed["mode"] == FeedMode.SCHEDULED
    try:
        command = CreateJob(
            content=render(feed["template"], entry),
            tags=[FEED_TAG],
            targets=[_target(c, known) for c in feed["connection_ids"]],
            scheduled_at=now + timedelta(seconds=feed["schedule_after_s"]) if scheduled else None,
        )
        job = await add_new_job(uow, deps, author, command, job_id, now)
    except ValidationError as error:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())[:1000]
    except Invalid as refused:
        errors = refused.extra.get("errors") or []
        return ("; ".join(f"{e['field']}: {e['message']}" for e in errors) or str(refused))[:1000]
    if scheduled:
        await submit_in(uow, deps, job, now)
    return None


def _target(connection_id: uuid.UUID, known: Mapping[uuid.UUID, Row]) -> TargetIn:
    """An account the brand no longer has keeps its id, so the job's check names it."""
    connection = known.get(connection_id)
    return TargetIn(platform=connection["platform"] if connection else "unknown", connection_id=connection_id)


def _due(deps: Deps, feed: Mapping[str, Any], failures: int, now: datetime) -> datetime:
    return next_poll_at(
        now,
        interval_s=feed["interval_s"],
        consecutive_failures=failures,
        backoff_base_s=deps.settings.feed_backoff_base_s,
        backoff_cap_s=deps.settings.feed_backoff_cap_s,
    )


async def _failed(uow: UnitOfWork, deps: Deps, feed: dict[str, Any], problem: str, now: datetime) -> None:
    failures = feed["consecutive_failures"] + 1
    log.info("feed %s failed (%d in a row): %s", feed["feed_id"], failures, problem)
    await uow.feeds.update(
        feed["feed_id"],
        {
            "consecutive_failures": failures,
            "last_error": problem[:1000],
            "last_error_at": now,
            "last_polled_at": now,
            "next_poll_at": _due(deps, feed, failures, now),
        },
    )


async def _succeeded(
    uow: UnitOfWork, deps: Deps, feed: dict[str, Any], result: FetchResult, now: datetime
) -> None:
    await uow.feeds.update(
        feed["feed_id"],
        {
            "etag": result.etag,
            "last_modified": result.last_modified,
            "consecutive_failures": 0,
            "last_error": None,
            "last_error_at": None,
            "last_polled_at": now,
            "last_success_at": now,
            "next_poll_at": _due(deps, feed, 0, now),
        },
    )
