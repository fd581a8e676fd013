"""RSS/Atom subscriptions on the in-memory fakes: what subscribing refuses (each 422 naming its
field), another brand's subscription reading as none, and the poll handler: the entries already
in the feed are recorded, a new entry becomes one post from the template through the job rules
and the gate, a repeated or conditional poll makes nothing twice, and a broken feed shows its
reason and backs off until a good poll clears it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from aligned_common.identity import Identity
from aligned_publishing.adapters.feed_fetcher import FetchResult
from aligned_publishing.domain.commands import EditSubscription, Subscribe
from aligned_publishing.domain.errors import Invalid, NotFound
from aligned_publishing.domain.feeds import FeedMode
from aligned_publishing.domain.gate import PolicyView
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.service_layer import feed_polling, feeds
from aligned_testing.clock import StillClock

from .fakes import NOW, Store, fake_deps

pytestmark = pytest.mark.unit

BRAND, OTHER, TENANT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
EDITOR = Identity(TENANT, BRAND, "ed", "editor")
STRANGER = Identity(TENANT, OTHER, "mallory", "owner")
URL = "https://93.184.215.14/feed.xml"  # a public address: the guard resolves nothing


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> StillClock:
    return StillClock(NOW)


@pytest.fixture
def deps(store, clock):
    return fake_deps(store, clock, feed_min_interval_s=60, feed_backoff_base_s=120)


def _account(store: Store, brand: uuid.UUID = BRAND, status: str = "active") -> uuid.UUID:
    connection_id = uuid.uuid4()
    store.connections[connection_id] = {"brand_id": brand, "platform": "sandbox", "status": status}
    return connection_id


def _rss(*items: dict[str, str], build: int = 0) -> bytes:
    body = "".join(
        "<item>"
        + (f"<guid>{i['guid']}</guid>" if "guid" in i else "")
        + (f"<link>{i['link']}</link>" if "link" in i else "")
        + f"<title>{i.get('title', '')}</title><description>{i.get('summary', '')}</description></item>"
        for i in reversed(items)
    )
    return f"<rss version='2.0'><channel><title>t</title><description>{build}</description>{body}</channel></rss>".encode()


class Feed:
    """The outside world's feed, as the fetcher would report it; records what it was sent."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.answer: FetchResult | None = None  # a fixed answer (a failure)
        self.asked: list[tuple[str | None, str | None]] = []

    async def __call__(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        self.asked.append((etag, last_modified))
        if self.answer is not None:
            return self.answer
        current = f'"{len(self.items)}"'
        if etag == current:
            return FetchResult(not_modified=True, etag=etag, last_modified=last_modified)
        return FetchResult(
            body=_rss(*self.items), etag=current, last_modified="Mon, 02 Mar 2026 09:00:00 GMT"
        )


async def _poll(deps, store: Store, feed_id: uuid.UUID, fetch: Feed) -> dict[str, Any]:
    row = store.feeds[feed_id]
    await feed_polling.poll_one(deps, row, fetch)
    return store.feeds[feed_id]


def _feed_jobs(store: Store) -> list:
    return [j for j in store.jobs.values() if "rss" in j.tags]


async def _subscribe(deps, store, **fields: Any) -> dict[str, Any]:
    body = {"url": URL, "connection_ids": [_account(store)], "template": "{title}: {link}"} | fields
    return await feeds.subscribe(deps, EDITOR, Subscribe(**body))


# -- subscribing ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://10.1.2.3/feed", "private address"),
        ("https://127.0.0.1/feed", "loopback address"),
        ("https://169.254.169.254/latest/meta-data", "link-local address"),
        ("http://93.184.215.14/feed", "scheme must be https"),
        ("file:///etc/passwd", "scheme must be https"),
    ],
)
async def test_a_url_the_ssrf_guard_refuses_is_a_422_naming_url(deps, store, url, why) -> None:
    with pytest.raises(Invalid) as refused:
        await _subscribe(deps, store, url=url)
    (error,) = refused.value.extra["errors"]
    assert error["field"] == "url" and why in error["message"]
    assert store.feeds == {}


async def test_loopback_and_http_only_when_the_settings_allow_them(store, clock) -> None:
    local = fake_deps(store, clock, feed_allow_loopback_targets=True, feed_allow_http_targets=True)
    feed = await _subscribe(local, store, url="http://127.0.0.1:9/feed")
    assert feed["url"] == "http://127.0.0.1:9/feed"


async def test_unknown_foreign_and_disconnected_accounts_are_named_by_position(deps, store) -> None:
    mine, theirs, gone = _account(store), _account(store, OTHER), _account(store, status="disconnected")
    with pytest.raises(Invalid) as refused:
        await _subscribe(deps, store, connection_ids=[mine, theirs, uuid.uuid4(), gone])
    fields = [e["field"] for e in refused.value.extra["errors"]]
    assert fields == ["connection_ids[1]", "connection_ids[2]", "connection_ids[3]"]


async def test_a_template_with_an_unknown_placeholder_or_too_short_an_interval_is_refused(
    deps, store
) -> None:
    with pytest.raises(Invalid) as refused:
        await _subscribe(deps, store, template="{title} {author}")
    assert refused.value.extra["errors"][0]["field"] == "template"
    assert "{author}" in refused.value.extra["errors"][0]["message"]
    with pytest.raises(Invalid) as refused:
        await _subscribe(deps, store, interval_s=5)
    assert refused.value.extra["errors"][0]["field"] == "interval_s"


async def test_another_brands_subscription_reads_as_none(deps, store) -> None:
    feed_id = (await _subscribe(deps, store))["feed_id"]
    for attempt in (
        feeds.get_subscription(deps, STRANGER, feed_id),
        feeds.entries(deps, STRANGER, feed_id),
        feeds.edit_subscription(deps, STRANGER, feed_id, EditSubscription(paused=True)),
        feeds.unsubscribe(deps, STRANGER, feed_id),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert not store.feeds[feed_id]["paused"]


# -- polling -------------------------------------------------------------------------------
async def test_entries_already_there_are_recorded_and_a_new_one_becomes_one_draft(deps, store, clock) -> None:
    feed = await _subscribe(deps, store)
    source = Feed()
    source.items.append({"guid": "old", "link": "https://ex.com/old", "title": "Old"})
    await _poll(deps, store, feed["feed_id"], source)
    assert _feed_jobs(store) == []
    (old,) = await feeds.entries(deps, EDITOR, feed["feed_id"])
    assert old["job_id"] is None and "before the subscription" in old["skipped"]

    clock.advance(timedelta(minutes=15))
    source.items.append({"guid": "new", "link": "https://ex.com/new", "title": "New <b>post</b>"})
    state = await _poll(deps, store, feed["feed_id"], source)
    (job,) = _feed_jobs(store)
    assert job.content == "New post: https://ex.com/new"
    assert job.status == JobStatus.DRAFT and job.author_id == "ed"
    assert [t["connection_id"] for t in store.targets[job.job_id]] == feed["connection_ids"]
    assert source.asked[-1] == ('"1"', "Mon, 02 Mar 2026 09:00:00 GMT")  # conditional
    assert state["etag"] == '"2"' and state["next_poll_at"] == NOW + timedelta(minutes=15, seconds=900)
    newest = (await feeds.entries(deps, EDITOR, feed["feed_id"]))[0]
    assert newest["job_id"] == job.job_id and newest["job_status"] == JobStatus.DRAFT


async def test_a_repeated_poll_makes_nothing_twice_whether_304_or_200(deps, store) -> None:
    feed = await _subscribe(deps, store, post_existing=True)
    source = Feed()
    source.items += [{"guid": "a", "title": "A"}, {"link": "https://ex.com/b", "title": "B"}]
    await _poll(deps, store, feed["feed_id"], source)
    # an RSS guid is a permalink unless it says otherwise: feedparser makes it the link too
    assert sorted(j.content for j in _feed_jobs(store)) == ["A: a", "B: https://ex.com/b"]
    await _poll(deps, store, feed["feed_id"], source)  # 304
    store.feeds[feed["feed_id"]]["etag"] = None  # a feed that ignores validators: a 200 again
    await _poll(deps, store, feed["feed_id"], source)
    assert len(_feed_jobs(store)) == 2
    assert len(store.feed_entries) == 2


async def test_scheduled_mode_goes_through_approval_where_the_policy_says_so(deps, store) -> None:
    free, gated = _account(store), _account(store)
    store.policies[BRAND] = [PolicyView(uuid.uuid4(), "approval_required", connection_id=gated)]
    source = Feed()
    source.items.append({"guid": "x", "title": "X"})
    jobs = {}
    for account in (free, gated):
        feed = await _subscribe(
            deps, store, connection_ids=[account], mode=FeedMode.SCHEDULED, post_existing=True
        )
        await _poll(deps, store, feed["feed_id"], source)
        (jobs[account],) = [
            j for j in _feed_jobs(store) if store.targets[j.job_id][0]["connection_id"] == account
        ]
    assert jobs[free].status == JobStatus.SCHEDULED
    assert jobs[free].scheduled_at == NOW + timedelta(seconds=3600)
    assert jobs[gated].status == JobStatus.PENDING_APPROVAL and jobs[gated].approval_required


async def test_an_entry_the_job_rules_refuse_is_listed_as_skipped_with_the_reason(deps, store) -> None:
    account = _account(store)
    feed = await _subscribe(deps, store, connection_ids=[account], post_existing=True)
    store.connections[account]["status"] = "disconnected"  # after subscribing
    source = Feed()
    source.items += [{"guid": "x", "title": "X"}, {"title": "no guid, no link"}]
    state = await _poll(deps, store, feed["feed_id"], source)
    assert _feed_jobs(store) == []
    reasons = sorted(e["skipped"] for e in await feeds.entries(deps, EDITOR, feed["feed_id"]))
    assert "neither a guid nor a link" in reasons[1]
    assert reasons[0].startswith("targets[0].connection_id:") and "disconnected" in reasons[0]
    assert state["consecutive_failures"] == 0  # the feed itself is fine


async def test_a_broken_feed_shows_its_reason_backs_off_and_a_good_poll_clears_it(deps, store, clock) -> None:
    feed = await _subscribe(deps, store, interval_s=60)
    source = Feed()
    for body in (b"<html>moved</html>", b"<html>still</html>"):
        await feed_polling.poll_one(deps, store.feeds[feed["feed_id"]], _fixed(body))
    state = store.feeds[feed["feed_id"]]
    assert state["last_error"].startswith("not an RSS or Atom feed")
    assert state["consecutive_failures"] == 2 and state["last_error_at"] == NOW
    assert state["next_poll_at"] == NOW + timedelta(seconds=240)  # 120 * 2^(2-1), more than 60
    source.answer = FetchResult(problem="the feed answered HTTP 503")
    state = await _poll(deps, store, feed["feed_id"], source)
    assert state["last_error"] == "the feed answered HTTP 503" and state["consecutive_failures"] == 3

    clock.advance(timedelta(minutes=10))
    source.answer = None
    state = await _poll(deps, store, feed["feed_id"], source)
    assert state["last_error"] is None and state["consecutive_failures"] == 0
    assert state["next_poll_at"] == NOW + timedelta(minutes=10, seconds=60)


def _fixed(body: bytes):
    async def fetch(url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        return FetchResult(body=body)

    return fetch


async def test_a_paused_feed_is_not_posted_from_and_resuming_polls_now(deps, store, clock) -> None:
    feed = await _subscribe(deps, store, post_existing=True)
    await feeds.edit_subscription(deps, EDITOR, feed["feed_id"], EditSubscription(paused=True))
    source = Feed()
    source.items.append({"guid": "x", "title": "X"})
    await _poll(deps, store, feed["feed_id"], source)
    assert _feed_jobs(store) == [] and store.feed_entries == {}
    clock.advance(timedelta(hours=1))
    resumed = await feeds.edit_subscription(deps, EDITOR, feed["feed_id"], EditSubscription(paused=False))
    assert resumed["paused"] is False and resumed["next_poll_at"] == NOW + timedelta(hours=1)


async def test_a_poll_looks_at_the_newest_entries_only(store, clock) -> None:
    deps = fake_deps(store, clock, feed_max_entries=2)
    feed = await _subscribe(deps, store, post_existing=True)
    source = Feed()
    source.items += [{"guid": str(n), "title": f"T{n}"} for n in range(3)]  # T2 is the newest
    await _poll(deps, store, feed["feed_id"], source)
    assert sorted(j.content for j in _feed_jobs(store)) == ["T1: 1", "T2: 2"]


async def test_a_new_url_is_checked_again_and_starts_afresh(deps, store, clock) -> None:
    feed = await _subscribe(deps, store)
    store.feeds[feed["feed_id"]].update(etag='"x"', consecutive_failures=4, last_error="HTTP 500")
    with pytest.raises(Invalid) as refused:
        await feeds.edit_subscription(
            deps, EDITOR, feed["feed_id"], EditSubscription(url="https://192.168.0.9/")
        )
    assert refused.value.extra["errors"][0]["field"] == "url"
    assert store.feeds[feed["feed_id"]]["url"] == URL
    clock.advance(timedelta(minutes=5))
    moved = await feeds.edit_subscription(
        deps, EDITOR, feed["feed_id"], EditSubscription(url="https://93.184.215.15/rss", template="{link}")
    )
    assert (moved["etag"], moved["consecutive_failures"], moved["last_error"]) == (None, 0, None)
    assert moved["next_poll_at"] == NOW + timedelta(minutes=5) and moved["template"] == "{link}"
    assert store.feeds[feed["feed_id"]]["url"] == "https://93.184.215.15/rss"
