"""HTTP API (/v1/analytics): translate the request, call a handler, translate the answer.

Every route takes the verified identity; handlers scope every query to identity.brand_id.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from aligned_analytics.domain.ranges import DateRange, date_range, last_days
from aligned_analytics.service_layer import commands, reports
from aligned_analytics.service_layer.deps import Deps
from aligned_common.app import dependency
from aligned_common.identity import Caller, require_role

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

WRITERS = ("owner", "admin", "editor")

# Every route reaches the service through its one dependencies object (bootstrap.build()).
Service = Annotated[Deps, Depends(dependency(Deps))]
Limit = Annotated[int, Query(ge=1, le=200)]


async def report_range(
    identity: Caller,
    svc: Service,
    from_: Annotated[
        date | None,
        Query(alias="from", description="First day (in the brand's time zone), default: 29 days before `to`"),
    ] = None,
    to: Annotated[
        date | None, Query(description="Last day (in the brand's time zone, inclusive), default: today")
    ] = None,
) -> DateRange:
    zone = await reports.brand_zone(svc.replica, identity.brand_id)
    return date_range(from_, to, max_days=svc.settings.max_range_days, zone=zone)


RangeDep = Annotated[DateRange, Depends(report_range)]


# --- reports -------------------------------------------------------------------------------
# Read-only and tolerant of a few seconds of replication lag: served from the read replica
# when one is configured (ALIGNED_ANALYTICS_READ_DATABASE_URL), keeping them off the primary.


@router.get("/summary")
async def summary(identity: Caller, svc: Service, chosen: RangeDep, platform: str | None = None) -> dict:
    """Totals per metric, engagement rate, and change against the period just before."""
    return await reports.summary(svc.replica, identity.brand_id, chosen, platform)


@router.get("/platforms")
async def per_platform(identity: Caller, svc: Service, chosen: RangeDep) -> dict:
    return await reports.per_platform(svc.replica, identity.brand_id, chosen)


@router.get("/posts")
async def posts(
    identity: Caller,
    svc: Service,
    chosen: RangeDep,
    cursor: str | None = None,
    limit: Limit = 50,
    job_id: Annotated[uuid.UUID | None, Query(description="Only this job's posts")] = None,
) -> dict:
    return await reports.posts_page(svc.replica, identity.brand_id, chosen, cursor, limit, job_id)


@router.get("/top-posts")
async def top_posts(
    identity: Caller, svc: Service, chosen: RangeDep, metric: str = "engagement", limit: Limit = 10
) -> dict:
    return await reports.top_posts(svc.replica, identity.brand_id, chosen, metric, limit)


@router.get("/timeseries")
async def time_series(
    identity: Caller,
    svc: Service,
    chosen: RangeDep,
    metric: str = "impressions",
    bucket: str = "day",
    platform: str | None = None,
) -> dict:
    return await reports.time_series(svc.replica, identity.brand_id, chosen, metric, bucket, platform)


@router.get("/best-hours")
async def best_hours(
    identity: Caller,
    svc: Service,
    chosen: RangeDep,
    metric: str = "engagement",
    limit: Annotated[int, Query(ge=1, le=168)] = 168,
) -> dict:
    return await reports.best_hours(svc.replica, identity.brand_id, chosen, metric, limit)


# --- accounts and syncs --------------------------------------------------------------------


@router.get("/accounts")
async def account_list(identity: Caller, svc: Service) -> dict:
    return await reports.account_list(svc.uows, identity.brand_id)


class SyncRequest(BaseModel):
    connection_id: uuid.UUID | None = Field(default=None, description="Omit to sync every active account")


@router.post("/syncs", status_code=202)
async def request_sync(body: SyncRequest, identity: Caller, svc: Service) -> dict:
    require_role(identity, *WRITERS)
    requested = await commands.sync_now(svc.uows, svc.settings, identity, body.connection_id)
    return {"requested": requested}


@router.get("/syncs")
async def sync_list(
    identity: Caller,
    svc: Service,
    connection_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> dict:
    if connection_id is not None:
        await commands.require_accounts(svc.uows, identity, [connection_id], "connection_id")
    return await reports.sync_page(svc.uows, identity.brand_id, connection_id, cursor, limit)


# --- goals ---------------------------------------------------------------------------------


class GoalIn(BaseModel):
    metric: str = Field(max_length=64, examples=["likes", "engagement"])
    target: float = Field(gt=0, le=1e12)
    period: str = Field(default="month", max_length=16, examples=["day", "week", "month", "quarter"])
    platform: str | None = Field(default=None, max_length=64)
    connection_id: uuid.UUID | None = Field(default=None, description="One of the brand's connected accounts")


@router.post("/goals", status_code=201)
async def create_goal(body: GoalIn, identity: Caller, svc: Service) -> dict:
    require_role(identity, *WRITERS)
    return await commands.create_goal(svc.uows, identity, body, now=svc.clock.now())


@router.get("/goals")
async def goal_list(identity: Caller, svc: Service) -> dict:
    return {"items": await commands.list_goals(svc.uows, identity, now=svc.clock.now())}


@router.get("/goals/{goal_id}")
async def goal(goal_id: uuid.UUID, identity: Caller, svc: Service) -> dict:
    [found] = await commands.list_goals(svc.uows, identity, goal_id, now=svc.clock.now())
    return found


@router.delete("/goals/{goal_id}", status_code=204)
async def archive_goal(goal_id: uuid.UUID, identity: Caller, svc: Service) -> Response:
    require_role(identity, *WRITERS)
    await commands.archive_goal(svc.uows, identity, goal_id)
    return Response(status_code=204)


# --- advisor and auto plans ----------------------------------------------------------------


class FeedbackIn(BaseModel):
    hour_of_week: int = Field(
        ge=0, le=167, description="The suggested slot: 0 = Monday 00:00 in the brand's time zone"
    )
    rating: int = Field(ge=1, le=5, description="1 = bad suggestion ... 5 = great")
    comment: str | None = Field(default=None, max_length=2000)


@router.get("/advisor/suggestions")
async def suggestions(
    identity: Caller, svc: Service, limit: Annotated[int, Query(ge=1, le=168)] = 10
) -> dict:
    """Best hours over the advisor's lookback window, weighted by feedback."""
    zone = await reports.brand_zone(svc.uows, identity.brand_id)
    lookback = last_days(svc.settings.advisor_lookback_days, zone=zone)
    return await reports.best_hours(svc.uows, identity.brand_id, lookback, "engagement", limit)


@router.post("/advisor/feedback", status_code=201)
async def feedback(body: FeedbackIn, identity: Caller, svc: Service) -> dict:
    return await commands.rate_suggestion(svc.uows, identity, body.hour_of_week, body.rating, body.comment)


class PlanIn(BaseModel):
    days: int = Field(default=7, ge=1, le=31)
    posts_per_day: int = Field(default=1, ge=1, le=6)
    connection_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=100, description="Omit for every active account"
    )


@router.post("/plans", status_code=201)
async def create_plan(body: PlanIn, identity: Caller, svc: Service) -> dict:
    require_role(identity, *WRITERS)
    return await commands.create_plan(svc.uows, svc.settings, identity, body, now=svc.clock.now())


@router.get("/plans")
async def plan_list(identity: Caller, svc: Service, cursor: str | None = None, limit: Limit = 20) -> dict:
    return await commands.list_plans(svc.uows, identity, cursor, limit)


@router.get("/plans/{plan_id}")
async def plan(plan_id: uuid.UUID, identity: Caller, svc: Service) -> dict:
    return await commands.get_plan(svc.uows, identity, plan_id)


@router.post("/plans/{plan_id}/accept")
async def accept_plan(plan_id: uuid.UUID, identity: Caller, svc: Service) -> dict:
    require_role(identity, *WRITERS)
    return await commands.accept_plan(svc.uows, identity, plan_id)
