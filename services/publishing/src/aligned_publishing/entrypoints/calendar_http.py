"""HTTP for calendar feeds: /v1/calendar-feeds (members, through the gateway's login) and the
public feed itself, /calendar/{token}.ics (the token is the credential; the gateway routes it
without a login)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from aligned_common.app import dependency
from aligned_common.identity import Caller
from aligned_common.problems import problem_responses
from aligned_publishing.domain.calendar import FeedScope
from aligned_publishing.service_layer import calendar
from aligned_publishing.service_layer.deps import Deps

router = APIRouter()
Service = Annotated[Deps, Depends(dependency(Deps))]
ICS = "text/calendar; charset=utf-8"
CALENDAR_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/calendar": {}}, "description": "RFC 5545 calendar"}
}


class CreateFeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: FeedScope = Field(
        default=FeedScope.BRAND,
        description="brand: the brand's posts with a time; approvals: the posts waiting for approval",
    )


class FeedOut(BaseModel):
    feed_id: uuid.UUID
    scope: FeedScope
    user_id: str = Field(description="whose feed it is")
    created_at: datetime
    revoked_at: datetime | None = None


class NewFeedOut(FeedOut):
    url: str = Field(
        description="the feed's secret path on the gateway (/calendar/<token>.ics), shown only now: "
        "subscribe to it in a calendar app; revoke the feed to end it"
    )


@router.post(
    "/v1/calendar-feeds", status_code=201, response_model=NewFeedOut, responses=problem_responses(403)
)
async def create_calendar_feed(identity: Caller, deps: Service, body: CreateFeed | None = None) -> NewFeedOut:
    made = await calendar.create_feed(deps, identity, (body or CreateFeed()).scope)
    return NewFeedOut(**made.feed, url=made.path)


@router.get("/v1/calendar-feeds", response_model=list[FeedOut])
async def list_calendar_feeds(identity: Caller, deps: Service) -> list[FeedOut]:
    """The caller's own feeds (owners and admins: every feed of the brand), revoked ones too."""
    return [FeedOut(**f) for f in await calendar.list_feeds(deps, identity)]


@router.delete("/v1/calendar-feeds/{feed_id}", status_code=204)
async def revoke_calendar_feed(feed_id: uuid.UUID, identity: Caller, deps: Service) -> Response:
    await calendar.revoke_feed(deps, identity, feed_id)
    return Response(status_code=204)


@router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses=CALENDAR_ANSWER | problem_responses(404),
)
async def calendar_feed_ics(
    token: Annotated[str, Path(min_length=20, max_length=100)], deps: Service
) -> Response:
    body = await calendar.feed_ics(deps, token)
    # A calendar app polls; the answer is private to whoever holds the URL.
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=300"})
