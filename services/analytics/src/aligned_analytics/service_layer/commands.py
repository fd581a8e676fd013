"""Command handlers behind the HTTP API: on-demand syncs, goals, advisor feedback, auto plans."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from aligned_analytics.config import Settings
from aligned_analytics.domain.advisor import adjusted_weight
from aligned_analytics.domain.errors import Conflict, NotFound
from aligned_analytics.domain.goals import require_period
from aligned_analytics.domain.metrics import ENGAGEMENT_METRICS, InvalidQuery, require_metric
from aligned_analytics.domain.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from aligned_analytics.service_layer.output import jsonable
from aligned_analytics.service_layer.ports import Row, UnitOfWork, UnitsOfWork
from aligned_analytics.service_layer.sync import request_sync
from aligned_common.events.analytics import PlanAccepted, PlannedSlot
from aligned_common.identity import Identity
from aligned_common.known_connections import problem_with


class GoalRequest(Protocol):  # entrypoints/http.py's GoalIn
    metric: str
    target: float
    period: str
    platform: str | None
    connection_id: uuid.UUID | None


class PlanRequest(Protocol):  # entrypoints/http.py's PlanIn
    days: int
    posts_per_day: int
    connection_ids: list[uuid.UUID] | None


def not_the_brands(field: str, connection_id: uuid.UUID, account: Row | None = None) -> InvalidQuery | None:
    """None when the brand may name this account. The same answer for another brand's connection
    and for none at all: nothing leaks (known_connections.problem_with, as every service says it)."""
    problem = problem_with(account, connection_id)
    return InvalidQuery(field, problem[1]) if problem else None


async def _check_accounts(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    connection_ids: list[uuid.UUID],
    field: str,
    *,
    reading: bool = False,
) -> None:
    """Every id is one of the brand's accounts, as connections' events told analytics; not
    disconnected, unless it is only read (a disconnected account's history stays readable)."""
    known = await uow.accounts.known(brand_id, connection_ids)
    for index, connection_id in enumerate(connection_ids):
        account = known.get(connection_id)
        if reading and account is not None:
            continue
        error = not_the_brands(
            field if field == "connection_id" else f"{field}.{index}", connection_id, account
        )
        if error is not None:
            raise error


async def require_accounts(
    uows: UnitsOfWork, identity: Identity, connection_ids: list[uuid.UUID], field: str
) -> None:
    async with uows(brand_id=identity.brand_id) as uow:
        await _check_accounts(uow, identity.brand_id, connection_ids, field, reading=True)


async def sync_now(
    uows: UnitsOfWork, settings: Settings, identity: Identity, connection_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """Ask for a sync of one account, or of every active account of the brand."""
    async with uows(brand_id=identity.brand_id) as uow:
        if connection_id is not None:
            account = await uow.accounts.lock_account(identity.brand_id, connection_id)
            error = not_the_brands("connection_id", connection_id, account)
            if error is not None:
                raise error
            assert account is not None  # not_the_brands refuses a missing one
            if account["status"] != "active":
                raise Conflict(
                    title="Account cannot be synced",
                    detail=f"account is {account['status']}: {account['status_reason'] or 'no reason given'}",
                )
            targets = [account]
        else:
            targets = await uow.accounts.active_accounts(identity.brand_id)
            if not targets:
                raise Conflict(title="No account to sync", detail="the brand has no active connected account")
        requested = []
        for account in targets:
            remote_ids = await uow.posts.tracked_remote_ids(
                account["connection_id"], settings.tracked_post_days
            )
            sync_id = await request_sync(uow, account, trigger="on_demand", remote_ids=remote_ids)
            # An on-demand sync counts as the routine one: the cadence restarts from now.
            await uow.accounts.mark_requested(account["connection_id"], settings.sync_interval_s)
            requested.append({"sync_id": str(sync_id), "connection_id": str(account["connection_id"])})
    return requested


def _goal_out(row: Row) -> dict[str, Any]:
    out = jsonable(
        {
            k: row[k]
            for k in (
                "goal_id",
                "metric",
                "target",
                "period",
                "platform",
                "connection_id",
                "created_by",
                "created_at",
            )
        }
    )
    out["current_period"] = {
        "start": row["period_start"].isoformat(),
        "end": row["period_end"].isoformat(),
        "value": row["value"],
        "progress": row["progress"],
        "reached": row["reached"],
    }
    return out


async def create_goal(
    uows: UnitsOfWork, identity: Identity, body: GoalRequest, *, now: datetime
) -> dict[str, Any]:
    require_metric(body.metric, allow_engagement=True)
    require_period(body.period)
    goal_id = uuid.uuid4()
    async with uows(brand_id=identity.brand_id) as uow:
        if body.connection_id is not None:
            await _check_accounts(uow, identity.brand_id, [body.connection_id], "connection_id")
        await uow.goals.create_goal(
            goal_id=goal_id,
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            metric=body.metric,
            target=body.target,
            period=body.period,
            platform=body.platform,
            connection_id=body.connection_id,
            created_by=identity.user_id,
        )
        [row] = await uow.goals.progress_now(identity.brand_id, now, goal_id)
    return _goal_out(row)


async def list_goals(
    uows: UnitsOfWork, identity: Identity, goal_id: uuid.UUID | None = None, *, now: datetime
) -> list[dict[str, Any]]:
    async with uows(brand_id=identity.brand_id) as uow:
        rows = await uow.goals.progress_now(identity.brand_id, now, goal_id)
    if goal_id is not None and not rows:
        raise NotFound(title="Goal not found", detail=f"no goal {goal_id}")
    return [_goal_out(r) for r in rows]


async def archive_goal(uows: UnitsOfWork, identity: Identity, goal_id: uuid.UUID) -> None:
    async with uows(brand_id=identity.brand_id) as uow:
        if not await uow.goals.archive_goal(identity.brand_id, goal_id):
            raise NotFound(title="Goal not found", detail=f"no goal {goal_id}")


async def rate_suggestion(
    uows: UnitsOfWork, identity: Identity, hour_of_week: int, rating: int, comment: str | None
) -> dict[str, Any]:
    async with uows(brand_id=identity.brand_id) as uow:
        await uow.advisor.record_feedback(
            feedback_id=uuid.uuid4(),
            brand_id=identity.brand_id,
            user_id=identity.user_id,
            hour_of_week=hour_of_week,
            rating=rating,
            comment=comment,
        )
        current = await uow.advisor.weight_for_update(identity.brand_id, hour_of_week)
        weight = adjusted_weight(current, rating)
        await uow.advisor.set_weight(identity.brand_id, hour_of_week, weight)
    return {"hour_of_week": hour_of_week, "previous_weight": current, "weight": weight}


async def _written(uow: UnitOfWork, identity: Identity, plan_id: uuid.UUID) -> Row:
    """The plan this transaction just created or accepted."""
    plan: Row | None = await uow.plans.plan(identity.brand_id, plan_id)
    assert plan is not None
    return plan


async def _plan_out(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    out = jsonable(dict(row))
    out["slots"] = [jsonable(dict(s)) for s in await uow.plans.slots(row["plan_id"])]
    return out


async def create_plan(
    uows: UnitsOfWork, settings: Settings, identity: Identity, body: PlanRequest, *, now: datetime
) -> dict[str, Any]:
    plan_id = uuid.uuid4()
    async with uows(brand_id=identity.brand_id) as uow:
        if body.connection_ids:
            await _check_accounts(uow, identity.brand_id, body.connection_ids, "connection_ids")
        created = await uow.plans.create_plan(
            plan_id=plan_id,
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            created_by=identity.user_id,
            days=body.days,
            posts_per_day=body.posts_per_day,
            lookback_start=now - timedelta(days=settings.advisor_lookback_days),
            now=now,
            engagement_metrics=list(ENGAGEMENT_METRICS),
            connection_ids=body.connection_ids,
            zone=await uow.brands.time_zone(identity.brand_id),
        )
        if created == 0:
            raise Conflict(title="Nothing to plan", detail="no active connected account matches this plan")
        return await _plan_out(uow, await _written(uow, identity, plan_id))


async def get_plan(uows: UnitsOfWork, identity: Identity, plan_id: uuid.UUID) -> dict[str, Any]:
    async with uows(brand_id=identity.brand_id) as uow:
        row = await uow.plans.plan(identity.brand_id, plan_id)
        if row is None:
            raise NotFound(title="Plan not found", detail=f"no plan {plan_id}")
        return await _plan_out(uow, row)


async def list_plans(uows: UnitsOfWork, identity: Identity, cursor: str | None, limit: int) -> dict[str, Any]:
    after = decode_cursor(cursor, *TIME_AND_ID)
    async with uows(brand_id=identity.brand_id) as uow:
        rows = await uow.plans.page_of_plans(identity.brand_id, after, limit + 1)
    page = rows[:limit]
    next_cursor = (
        encode_cursor([page[-1]["created_at"].isoformat(), str(page[-1]["plan_id"])])
        if len(rows) > limit
        else None
    )
    return {"items": [jsonable(dict(r)) for r in page], "next_cursor": next_cursor}


async def accept_plan(uows: UnitsOfWork, identity: Identity, plan_id: uuid.UUID) -> dict[str, Any]:
    """Accepting is the command publishing can act on: analytics.plan_accepted carries the slots."""
    async with uows(brand_id=identity.brand_id) as uow:
        if not await uow.plans.accept(identity.brand_id, plan_id, identity.user_id):
            if await uow.plans.plan(identity.brand_id, plan_id) is None:
                raise NotFound(title="Plan not found", detail=f"no plan {plan_id}")
            raise Conflict(title="Plan already accepted", detail=f"plan {plan_id} was accepted before")
        slots = await uow.plans.slots(plan_id)
        await uow.emit(
            PlanAccepted(
                plan_id=plan_id,
                accepted_by=identity.user_id,
                slots=[
                    PlannedSlot(platform=s["platform"], connection_id=s["connection_id"], at=s["at"])
                    for s in slots
                ],
                time_zone=await uow.brands.time_zone(identity.brand_id),
            ),
            brand_id=identity.brand_id,
            tenant_id=identity.tenant_id,
            subject=str(plan_id),
        )
        return await _plan_out(uow, await _written(uow, identity, plan_id))
