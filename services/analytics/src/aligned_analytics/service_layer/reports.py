"""Read handlers: validate the question, run the SQL in a brand-scoped unit of work, shape rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from aligned_analytics.domain.metrics import metrics_of, require_metric
from aligned_analytics.domain.pagination import TIME_AND_ID, decode_cursor, encode_cursor, text
from aligned_analytics.domain.ranges import DateRange, require_bucket
from aligned_analytics.service_layer.output import jsonable
from aligned_analytics.service_layer.ports import Row, UnitsOfWork


def _range_out(chosen: DateRange) -> dict[str, str]:
    return {"from": chosen.first_day.isoformat(), "to": chosen.last_day.isoformat(), "time_zone": chosen.zone}


async def brand_zone(uows: UnitsOfWork, brand_id: uuid.UUID) -> str:
    """The brand's time zone (from the gateway's brand_created), UTC when not known."""
    async with uows(brand_id=brand_id) as uow:
        return await uow.brands.time_zone(brand_id)


def _totals(rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    return {
        r["metric"]: {
            "value": r["current"],
            "previous": r["previous"],
            "change_pct": float(r["change_pct"]) if r["change_pct"] is not None else None,
        }
        for r in rows
    }


async def summary(
    uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange, platform: str | None
) -> dict[str, Any]:
    previous = chosen.previous()
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.summary(brand_id, chosen.start, chosen.end, previous.start, platform)
    return {
        "range": _range_out(chosen),
        "previous_range": _range_out(previous),
        "platform": platform,
        "totals": _totals(rows),
        "engagement_rate": rows[0]["engagement_rate"],
        "previous_engagement_rate": rows[0]["previous_engagement_rate"],
    }


async def per_platform(uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange) -> dict[str, Any]:
    previous = chosen.previous()
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.per_platform(brand_id, chosen.start, chosen.end, previous.start)
    platforms: dict[str, list[Row]] = {}
    for row in rows:
        platforms.setdefault(row["platform"], []).append(row)
    return {
        "range": _range_out(chosen),
        "platforms": [
            {"platform": name, "totals": _totals(group), "engagement_rate": group[0]["engagement_rate"]}
            for name, group in platforms.items()
        ],
    }


def _post_out(row: Row) -> dict[str, Any]:
    return {
        "connection_id": str(row["connection_id"]),
        "remote_id": row["remote_id"],
        "platform": row["platform"],
        "job_id": str(row["job_id"]) if row["job_id"] else None,
        "published_at": row["published_at"].isoformat() if row["published_at"] else None,
        "metrics": {m: row[m] for m in ("impressions", "likes", "shares", "comments", "quotes")},
        "engagement": row["engagement"],
        "engagement_rate": row["engagement_rate"],
    }


async def posts_page(
    uows: UnitsOfWork,
    brand_id: uuid.UUID,
    chosen: DateRange,
    cursor: str | None,
    limit: int,
    job_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    after = decode_cursor(cursor, uuid.UUID, text)
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.page_of_posts(brand_id, chosen.start, chosen.end, after, limit + 1, job_id)
    page = rows[:limit]
    next_cursor = (
        encode_cursor([str(page[-1]["connection_id"]), page[-1]["remote_id"]]) if len(rows) > limit else None
    )
    return {"range": _range_out(chosen), "items": [_post_out(r) for r in page], "next_cursor": next_cursor}


async def top_posts(
    uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange, metric: str, limit: int
) -> dict[str, Any]:
    require_metric(metric, allow_engagement=True)
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.top_posts(brand_id, chosen.start, chosen.end, metrics_of(metric), limit)
    return {
        "range": _range_out(chosen),
        "metric": metric,
        "items": [{**_post_out(r), "value": r["rank_value"]} for r in rows],
    }


async def time_series(
    uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange, metric: str, bucket: str, platform: str | None
) -> dict[str, Any]:
    require_metric(metric, allow_engagement=True)
    require_bucket(bucket)
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.time_series(
            brand_id, chosen.start, chosen.end, metrics_of(metric), bucket, platform, chosen.zone
        )
    return {
        "range": _range_out(chosen),
        "metric": metric,
        "bucket": bucket,
        "points": [{"bucket_start": r["bucket_start"].isoformat(), "value": r["value"]} for r in rows],
    }


def _hour_out(row: Row) -> dict[str, Any]:
    return {
        "hour_of_week": row["hour_of_week"],
        "day_of_week": row["day_of_week"],
        "hour": row["hour"],
        "posts": row["posts"],
        "engagement": row["engagement"],
        "avg_engagement": row["avg_engagement"],
        "weight": row["weight"],
        "score": row["score"],
    }


async def best_hours(
    uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange, metric: str, limit: int
) -> dict[str, Any]:
    """Hours of the week (of the brand's zone) ranked by average engagement per post published
    in them, times the advisor weight users' feedback gave them."""
    require_metric(metric, allow_engagement=True)
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.best_hours(
            brand_id,
            chosen.start,
            chosen.end,
            metrics_of(metric),
            order_by_score=True,
            limit=limit,
            zone=chosen.zone,
        )
    return {"range": _range_out(chosen), "metric": metric, "items": [_hour_out(r) for r in rows]}


async def sync_page(
    uows: UnitsOfWork, brand_id: uuid.UUID, connection_id: uuid.UUID | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    after = decode_cursor(cursor, *TIME_AND_ID)
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.syncs.page_of_syncs(brand_id, after, limit + 1, connection_id)
    page = rows[:limit]
    next_cursor = (
        encode_cursor([page[-1]["requested_at"].isoformat(), str(page[-1]["sync_id"])])
        if len(rows) > limit
        else None
    )
    return {"items": [jsonable(dict(r)) for r in page], "next_cursor": next_cursor}


async def account_list(uows: UnitsOfWork, brand_id: uuid.UUID) -> dict[str, Any]:
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.accounts.list_accounts(brand_id)
    return {"items": [jsonable(dict(r)) for r in rows]}
