"""Calendar feeds on the in-memory fakes: a feed's URL serves valid RFC 5545 (parsed back with
icalendar) with the brand's scheduled posts, an approvals feed only what waits for approval, a
revoked or unknown token is 404, and members see and revoke only their own feeds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from icalendar import Calendar

from aligned_common.identity import Identity
from aligned_publishing.domain.calendar import FeedScope, token_hash
from aligned_publishing.domain.errors import Forbidden, NotFound
from aligned_publishing.domain.job import Job
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.service_layer import calendar
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps

pytestmark = pytest.mark.unit

BRAND, OTHER, TENANT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
CLIENT = Identity(TENANT, BRAND, "cli", "client")
ADMIN = Identity(TENANT, BRAND, "ada", "admin")


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def deps(store):
    return fake_deps(store, StillClock(NOW))


def _job(store: Store, content: str, status: JobStatus, at, brand=BRAND, **extra) -> Job:
    job = Job(
        job_id=uuid.uuid4(),
        brand_id=brand,
        tenant_id=TENANT,
        author_id="ed",
        content=content,
        tags=[],
        media_ids=[],
        scheduled_at=at,
        time_zone=None,
        requires_approval=False,
        content_hash=None,
        approval_required=False,
        approval_reason=None,
        max_retries=3,
        created_at=NOW,
        updated_at=NOW,
        status=status,
        **extra,
    )
    store.jobs[job.job_id] = job
    store.targets[job.job_id] = [{"platform": "sandbox"}]
    return job


def _token(path: str) -> str:
    return path.removeprefix("/calendar/").removesuffix(".ics")


async def test_a_brand_feed_is_valid_ics_of_the_brands_posts_with_a_time(deps, store) -> None:
    soon = _job(store, "Spring launch\nmore text", JobStatus.SCHEDULED, NOW + timedelta(days=1))
    waiting = _job(store, "Needs a yes", JobStatus.PENDING_APPROVAL, NOW + timedelta(days=2))
    _job(store, "no time", JobStatus.DRAFT, None)
    _job(store, "deleted", JobStatus.DRAFT, NOW + timedelta(days=1), deleted_at=NOW)
    _job(store, "other brand", JobStatus.SCHEDULED, NOW + timedelta(days=1), brand=OTHER)

    made = await calendar.create_feed(deps, EDITOR, FeedScope.BRAND)
    assert made.path.startswith("/calendar/") and made.path.endswith(".ics")
    assert store.calendar_feeds[made.feed["feed_id"]]["token_hash"] == token_hash(_token(made.path))
    assert _token(made.path) not in str(store.calendar_feeds)  # only the hash is kept

    parsed = Calendar.from_ical(await calendar.feed_ics(deps, _token(made.path)))
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]
    events = parsed.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{soon.job_id}@aligned", f"{waiting.job_id}@aligned"]
    assert events[0].decoded("DTSTART") == soon.scheduled_at
    assert str(events[0]["SUMMARY"]) == "[scheduled] Spring launch"
    assert str(events[0]["STATUS"]) == "CONFIRMED" and str(events[1]["STATUS"]) == "TENTATIVE"


async def test_an_approvals_feed_shows_only_what_waits_and_only_deciders_get_one(deps, store) -> None:
    _job(store, "done deal", JobStatus.SCHEDULED, NOW + timedelta(days=1))
    waiting = _job(store, "decide me", JobStatus.PENDING_APPROVAL, NOW + timedelta(days=2))
    with pytest.raises(Forbidden):
        await calendar.create_feed(deps, EDITOR, FeedScope.APPROVALS)
    made = await calendar.create_feed(deps, CLIENT, FeedScope.APPROVALS)
    events = Calendar.from_ical(await calendar.feed_ics(deps, _token(made.path))).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"{waiting.job_id}@aligned"]


async def test_a_revoked_or_unknown_token_is_not_found_and_feeds_are_their_owners(deps, store) -> None:
    mine = await calendar.create_feed(deps, EDITOR, FeedScope.BRAND)
    theirs = await calendar.create_feed(deps, CLIENT, FeedScope.BRAND)
    assert [f["feed_id"] for f in await calendar.list_feeds(deps, EDITOR)] == [mine.feed["feed_id"]]
    assert len(await calendar.list_feeds(deps, ADMIN)) == 2
    with pytest.raises(NotFound):  # another member's feed is not the editor's to revoke
        await calendar.revoke_feed(deps, EDITOR, theirs.feed["feed_id"])
    with pytest.raises(NotFound):  # nor is another brand's
        await calendar.revoke_feed(deps, Identity(TENANT, OTHER, "ed", "owner"), mine.feed["feed_id"])

    await calendar.revoke_feed(deps, EDITOR, mine.feed["feed_id"])
    await calendar.revoke_feed(deps, EDITOR, mine.feed["feed_id"])  # twice: no change, no error
    with pytest.raises(NotFound):
        await calendar.feed_ics(deps, _token(mine.path))
    with pytest.raises(NotFound):
        await calendar.feed_ics(deps, "x" * 43)
    assert await calendar.feed_ics(deps, _token(theirs.path))  # the other feed still works
