"""Calendar feeds: make, list and revoke a brand's private ICS feeds, and serve one by its token.

Any member may make a feed of the brand's posts (they may read the calendar anyway); an
approvals feed (what waits for approval) is for those who decide approvals. A member sees and
revokes their own feeds; owners and admins every feed of the brand. The token is shown once,
in the answer that made it (domain/calendar.py keeps only its hash).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aligned_common.identity import Identity
from aligned_publishing.domain.calendar import FeedScope, new_token, render, token_hash
from aligned_publishing.domain.errors import Forbidden, NotFound
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import not_found

MANAGERS = ("owner", "admin")
DECIDERS = ("owner", "admin", "approver", "client")  # the gateway's approval.decide roles
PAST, AHEAD, MOST = timedelta(days=30), timedelta(days=400), 2000  # what one feed shows


@dataclass(frozen=True)
class NewFeed:
    feed: dict[str, Any]
    token: str  # shown once

    @property
    def path(self) -> str:
        return f"/calendar/{self.token}.ics"


def _mine(identity: Identity, feed: dict[str, Any]) -> bool:
    return identity.role in MANAGERS or feed["user_id"] == identity.user_id


async def create_feed(deps: Deps, identity: Identity, scope: FeedScope) -> NewFeed:
    if scope is FeedScope.APPROVALS and identity.role not in DECIDERS:
        raise Forbidden(f"an approvals feed is for {', '.join(DECIDERS)}")
    token = new_token()
    feed = {
        "feed_id": uuid.uuid4(),
        "brand_id": identity.brand_id,
        "token_hash": token_hash(token),
        "scope": scope.value,
        "user_id": identity.user_id,
        "created_at": deps.clock.now(),
        "revoked_at": None,
    }
    async with deps.uow(identity.brand_id) as uow:
        await uow.calendar_feeds.add(feed)
    return NewFeed({k: v for k, v in feed.items() if k != "token_hash"}, token)


async def list_feeds(deps: Deps, identity: Identity) -> list[dict[str, Any]]:
    async with deps.uow(identity.brand_id) as uow:
        return [f for f in await uow.calendar_feeds.of_brand(identity.brand_id) if _mine(identity, f)]


async def revoke_feed(deps: Deps, identity: Identity, feed_id: uuid.UUID) -> None:
    """Revoking is for good (a new feed has a new URL); revoking twice changes nothing."""
    async with deps.uow(identity.brand_id) as uow:
        feeds = {f["feed_id"]: f for f in await uow.calendar_feeds.of_brand(identity.brand_id)}
        feed = feeds.get(feed_id)
        if feed is None or not _mine(identity, feed):
            raise not_found("Calendar feed", feed_id)
        await uow.calendar_feeds.revoke(identity.brand_id, feed_id, deps.clock.now())


async def feed_ics(deps: Deps, token: str) -> bytes:
    """The feed's calendar. An unknown token and a revoked one read the same (404)."""
    digest = token_hash(token)
    # Worker: the token is the only thing the caller has; it names the brand (by its row).
    async with deps.uow(role="worker") as uow:
        feed = await uow.calendar_feeds.by_token(digest)
    if feed is None or feed["revoked_at"] is not None:
        raise NotFound("no such calendar feed (revoked, or never made)", title="Calendar feed not found")
    now, scope = deps.clock.now(), FeedScope(feed["scope"])
    async with deps.uow(feed["brand_id"]) as uow:  # the rest is read in the brand's own scope
        jobs = await uow.calendar_feeds.jobs(feed["brand_id"], scope, now - PAST, now + AHEAD, MOST)
    return render("Aligned", scope, jobs)
