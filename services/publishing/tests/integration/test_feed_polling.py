"""Feed polling on the real database: two replicas' poll loops never poll one feed at once
(SKIP LOCKED and the lease), and two polls of one feed racing past the lease still make each
entry's post once (the (feed, key) primary key); RLS keeps a brand's subscriptions its own."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from aligned_common.identity import Identity
from aligned_publishing.adapters.feed_fetcher import FetchResult
from aligned_publishing.domain.commands import Subscribe
from aligned_publishing.service_layer import feed_polling, feeds

pytestmark = pytest.mark.integration
RSS = (
    b"<rss version='2.0'><channel><title>t</title>"
    b"<item><guid>urn:1</guid><title>One</title></item>"
    b"<item><guid>urn:2</guid><title>Two</title></item></channel></rss>"
)


class SlowFeed:
    """Answers after a moment, so racing polls overlap; counts the fetches."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def __call__(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        self.fetched.append(url)
        await asyncio.sleep(0.3)
        return FetchResult(body=RSS, etag='"v1"')


async def _subscription(svc, brand) -> dict:
    body = Subscribe(
        url=f"https://93.184.215.14/{uuid.uuid4().hex}.xml",
        connection_ids=[brand.sandbox],
        template="{title}",
        post_existing=True,
    )
    return await feeds.subscribe(svc.ctx.deps, brand.identity, body)


async def _jobs_of(svc, brand) -> list:
    async with svc.ctx.deps.sql_uow(brand.brand_id) as uow:
        return await uow.jobs.conn.fetch(
            "SELECT job_id, content FROM publishing_jobs WHERE brand_id = $1", brand.brand_id
        )


async def test_two_replicas_poll_loops_poll_a_feed_once(svc, brand) -> None:
    feed = await _subscription(svc, brand)
    source = SlowFeed()
    # Two loops at the same moment, as two replicas would be (the service's own loop ticks
    # once an hour in these settings). Other tests' feeds may be due too: count this one's.
    await asyncio.gather(*(feed_polling.poll_due(svc.ctx.deps, source) for _ in range(2)))
    assert source.fetched.count(feed["url"]) >= 1
    state = await feeds.get_subscription(svc.ctx.deps, brand.identity, feed["feed_id"])
    assert state["etag"] == '"v1"' and state["last_error"] is None
    assert sorted(j["content"] for j in await _jobs_of(svc, brand)) == ["One", "Two"]
    assert source.fetched.count(feed["url"]) == 1, "two replicas polled one feed"


async def test_polls_racing_past_the_lease_still_post_each_entry_once(svc, brand) -> None:
    feed = await _subscription(svc, brand)
    claimed = {k: feed[k] for k in ("feed_id", "brand_id", "url", "etag", "last_modified")}
    source = SlowFeed()
    await asyncio.gather(*(feed_polling.poll_one(svc.ctx.deps, claimed, source) for _ in range(3)))
    assert len(source.fetched) == 3
    assert sorted(j["content"] for j in await _jobs_of(svc, brand)) == ["One", "Two"]
    entries = await feeds.entries(svc.ctx.deps, brand.identity, feed["feed_id"])
    assert len(entries) == 2 and all(e["job_status"] == "draft" for e in entries)


async def test_a_brand_sees_only_its_own_subscriptions(svc, brand) -> None:
    feed = await _subscription(svc, brand)
    stranger = Identity(uuid.uuid4(), uuid.uuid4(), "m", "owner")
    assert await feeds.list_subscriptions(svc.ctx.deps, stranger) == []
    async with svc.ctx.deps.sql_uow(stranger.brand_id) as uow:  # RLS, not only the WHERE
        assert await uow.jobs.conn.fetchval("SELECT count(*) FROM feed_subscriptions") == 0
    assert [f["feed_id"] for f in await feeds.list_subscriptions(svc.ctx.deps, brand.identity)] == [
        feed["feed_id"]
    ]
