"""HTTP for RSS/Atom subscriptions: /v1/feed-subscriptions (service_layer/feeds.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from aligned_common.app import dependency
from aligned_common.identity import Caller, require_role
from aligned_common.problems import problem_responses
from aligned_publishing.domain.commands import EditSubscription, Subscribe
from aligned_publishing.domain.feeds import FeedMode
from aligned_publishing.domain.status import JobStatus
from aligned_publishing.service_layer import feeds
from aligned_publishing.service_layer.deps import Deps

router = APIRouter(prefix="/v1/feed-subscriptions", tags=["feeds"])
Service = Annotated[Deps, Depends(dependency(Deps))]
WRITERS = ("owner", "admin", "editor")


class SubscriptionOut(BaseModel):
    feed_id: uuid.UUID
    url: str
    connection_ids: list[uuid.UUID]
    template: str
    mode: FeedMode
    schedule_after_s: int
    interval_s: int
    paused: bool
    post_existing: bool
    state: str = Field(
        description="new (not polled yet), ok (the last poll worked), failing (see last_error), paused"
    )
    consecutive_failures: int
    last_error: str | None = Field(description="why the last poll failed; cleared by a good poll")
    last_error_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None = Field(description="when it is polled next (later while failing: backoff)")
    created_by: str
    created_at: datetime
    updated_at: datetime


class EntryOut(BaseModel):
    entry_key: str = Field(description="sha256 of the entry's guid, else of its link")
    title: str
    link: str | None
    job_id: uuid.UUID | None = Field(description="the post the entry became")
    job_status: JobStatus | None
    skipped: str | None = Field(description="why the entry did not become a post")
    seen_at: datetime


def _state(feed: dict[str, Any]) -> str:
    if feed["paused"]:
        return "paused"
    if feed["consecutive_failures"] > 0:
        return "failing"
    return "ok" if feed["last_success_at"] is not None else "new"


def _out(feed: dict[str, Any]) -> SubscriptionOut:
    return SubscriptionOut(
        **{k: v for k, v in feed.items() if k in SubscriptionOut.model_fields},
        state=_state(feed),
    )


@router.post("", status_code=201, response_model=SubscriptionOut, responses=problem_responses(422))
async def subscribe_feed(body: Subscribe, identity: Caller, deps: Service) -> SubscriptionOut:
    """Each new entry of the feed becomes a post to these accounts, from the template."""
    require_role(identity, *WRITERS)
    return _out(await feeds.subscribe(deps, identity, body))


@router.get("", response_model=list[SubscriptionOut])
async def list_feed_subscriptions(identity: Caller, deps: Service) -> list[SubscriptionOut]:
    return [_out(f) for f in await feeds.list_subscriptions(deps, identity)]


@router.get("/{feed_id}", response_model=SubscriptionOut, responses=problem_responses(404))
async def get_feed_subscription(feed_id: uuid.UUID, identity: Caller, deps: Service) -> SubscriptionOut:
    return _out(await feeds.get_subscription(deps, identity, feed_id))


@router.patch("/{feed_id}", response_model=SubscriptionOut, responses=problem_responses(404, 422))
async def edit_feed_subscription(
    feed_id: uuid.UUID, body: EditSubscription, identity: Caller, deps: Service
) -> SubscriptionOut:
    """Change what it posts, or pause (`paused: true`) and resume (`paused: false`) it."""
    require_role(identity, *WRITERS)
    return _out(await feeds.edit_subscription(deps, identity, feed_id, body))


@router.delete("/{feed_id}", status_code=204, responses=problem_responses(404))
async def unsubscribe_feed(feed_id: uuid.UUID, identity: Caller, deps: Service) -> Response:
    """The posts it made stay."""
    require_role(identity, *WRITERS)
    await feeds.unsubscribe(deps, identity, feed_id)
    return Response(status_code=204)


@router.get("/{feed_id}/entries", response_model=list[EntryOut], responses=problem_responses(404))
async def list_feed_entries(feed_id: uuid.UUID, identity: Caller, deps: Service) -> list[EntryOut]:
    """The entries its polls saw, newest first, each with the post it became or why not."""
    return [EntryOut(**e) for e in await feeds.entries(deps, identity, feed_id)]
