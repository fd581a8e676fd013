"""Client report links: an owner or admin shares a read-only report of a date range by a
secret URL; whoever holds it reads the report without an account (ADR 0031).

Making, listing and revoking happen in the caller's brand; opening a link reads the token's
row as the worker role (the URL names no brand), then everything else in that brand's own
row-level-security scope, from the same queries as /v1/analytics (so the page and the API
always agree for the same range).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aligned_analytics.domain.metrics import ENGAGEMENT, InvalidQuery, metrics_of
from aligned_analytics.domain.ranges import DateRange, date_range
from aligned_analytics.domain.report_links import (
    PATH_PREFIX,
    ReportLinkNotFound,
    new_token,
    require_usable,
    token_hash,
)
from aligned_analytics.service_layer.output import jsonable
from aligned_analytics.service_layer.ports import Row, UnitsOfWork
from aligned_analytics.service_layer.reports import brand_zone, per_platform
from aligned_common.identity import Identity, require_role
from aligned_common.platforms import platform_names

SHARERS = ("owner", "admin")  # the gateway's reports.share roles
SHOWN_METRICS = ("impressions", "likes", "shares", "comments", "quotes", "followers")
TOP_POSTS = 5
WEEKLY_AFTER_DAYS = 62  # a longer range is drawn per ISO week, not per day


@dataclass(frozen=True)
class LinkRequest:
    first_day: date | None
    last_day: date | None
    platforms: list[str]
    goal_ids: list[uuid.UUID] | None
    language: str
    expires_in_days: int


def _link_out(link: dict[str, Any]) -> dict[str, Any]:
    out = jsonable({k: v for k, v in link.items() if k not in ("token_hash", "brand_id", "goal_ids")})
    out["from"], out["to"] = out.pop("first_day"), out.pop("last_day")
    out["goal_ids"] = [str(g) for g in link["goal_ids"]] if link["goal_ids"] is not None else None
    out["platforms"] = list(link["platforms"])
    return out


def _check_platforms(platforms: list[str]) -> list[str]:
    known = set(platform_names())
    for index, name in enumerate(platforms):
        if name not in known:
            raise InvalidQuery(f"platforms.{index}", f"unknown platform {name!r}")
    return sorted(set(platforms))


async def create_link(
    uows: UnitsOfWork, identity: Identity, body: LinkRequest, *, max_days: int, now: datetime
) -> dict[str, Any]:
    require_role(identity, *SHARERS)
    zone = await brand_zone(uows, identity.brand_id)
    chosen = date_range(body.first_day, body.last_day, max_days=max_days, zone=zone)
    platforms = _check_platforms(body.platforms)
    goal_ids = sorted(set(body.goal_ids)) if body.goal_ids is not None else None
    token = new_token()
    link: dict[str, Any] = {
        "link_id": uuid.uuid4(),
        "brand_id": identity.brand_id,
        "token_hash": token_hash(token),
        "first_day": chosen.first_day,
        "last_day": chosen.last_day,
        "platforms": platforms,
        "goal_ids": goal_ids,
        "language": body.language,
        "created_by": identity.user_id,
        "created_at": now,
        "expires_at": now + timedelta(days=body.expires_in_days),
        "revoked_at": None,
    }
    async with uows(brand_id=identity.brand_id) as uow:
        if goal_ids:
            known = await uow.report_links.known_goals(identity.brand_id, goal_ids)
            for index, goal_id in enumerate(body.goal_ids or []):
                if goal_id not in known:
                    raise InvalidQuery(f"goal_ids.{index}", f"no goal {goal_id} in this brand")
        await uow.report_links.add(link)
    # The token is in this answer only; the table keeps its hash.
    return {**_link_out(link), "url": PATH_PREFIX + token}


async def list_links(uows: UnitsOfWork, identity: Identity) -> list[dict[str, Any]]:
    require_role(identity, *SHARERS)
    async with uows(brand_id=identity.brand_id) as uow:
        return [_link_out(link) for link in await uow.report_links.of_brand(identity.brand_id)]


async def revoke_link(uows: UnitsOfWork, identity: Identity, link_id: uuid.UUID, *, now: datetime) -> None:
    """For good (a new link has a new URL); revoking twice changes nothing. Another brand's
    link is not found, the same as one never made."""
    require_role(identity, *SHARERS)
    async with uows(brand_id=identity.brand_id) as uow:
        if not await uow.report_links.revoke(identity.brand_id, link_id, now):
            raise ReportLinkNotFound(f"no report link {link_id}")


# -- the report a link opens -----------------------------------------------------------------


def _totals_of(platforms: list[dict[str, Any]]) -> dict[str, float]:
    return {m: sum(p["totals"][m]["value"] for p in platforms) for m in SHOWN_METRICS}


def _engagement_rate(totals: dict[str, float]) -> float | None:
    engaged = sum(totals[m] for m in metrics_of(ENGAGEMENT))
    return engaged / totals["impressions"] if totals["impressions"] else None


def _post(row: Row) -> dict[str, Any]:
    return {
        "platform": row["platform"],
        "published_at": row["published_at"].isoformat() if row["published_at"] else None,
        "text": row["text"],
        "media_count": row["media_count"],
        "metrics": {m: row[m] for m in ("impressions", "likes", "shares", "comments", "quotes")},
        "engagement": row["engagement"],
    }


def _goal(row: Row) -> dict[str, Any]:
    return {
        "goal_id": str(row["goal_id"]),
        "metric": row["metric"],
        "target": row["target"],
        "period": row["period"],
        "platform": row["platform"],
        "period_start": row["period_start"].isoformat(),
        "period_end": row["period_end"].isoformat(),
        "value": row["value"],
        "progress": row["progress"],
    }


async def _trend(
    uows: UnitsOfWork, brand_id: uuid.UUID, chosen: DateRange, bucket: str, platform: str
) -> list[dict[str, Any]]:
    async with uows(brand_id=brand_id) as uow:
        rows = await uow.reports.time_series(
            brand_id, chosen.start, chosen.end, metrics_of(ENGAGEMENT), bucket, platform, chosen.zone
        )
    return [{"bucket_start": r["bucket_start"].isoformat(), "value": r["value"]} for r in rows]


async def report(uows: UnitsOfWork, replica: UnitsOfWork, token: str, *, now: datetime) -> dict[str, Any]:
    """What the link shows: totals and a trend per platform, top posts, goals."""
    async with uows(role="worker") as uow:  # the token is all the caller has; its row names the brand
        link = require_usable(await uow.report_links.by_token(token_hash(token)), now)
    brand_id = link["brand_id"]
    zone = await brand_zone(replica, brand_id)
    chosen = DateRange(link["first_day"], link["last_day"], zone)  # checked when the link was made
    chosen_platforms = list(link["platforms"]) or None
    platforms = [
        p
        for p in (await per_platform(replica, brand_id, chosen))["platforms"]
        if chosen_platforms is None or p["platform"] in chosen_platforms
    ]
    bucket = "week" if chosen.days > WEEKLY_AFTER_DAYS else "day"
    for p in platforms:
        p["trend"] = {
            "metric": ENGAGEMENT,
            "bucket": bucket,
            "points": await _trend(replica, brand_id, chosen, bucket, p["platform"]),
        }
    # Goals: progress in the goal's period that holds the range's last moment (or now, if sooner).
    instant = min(now, chosen.end - timedelta(microseconds=1))
    async with replica(brand_id=brand_id) as uow:
        top = await uow.reports.report_top_posts(
            brand_id, chosen.start, chosen.end, chosen_platforms, TOP_POSTS
        )
        goals = await uow.goals.progress_now(brand_id, instant)
    wanted = set(link["goal_ids"]) if link["goal_ids"] is not None else None
    goals = [
        g
        for g in goals
        if (wanted is None or g["goal_id"] in wanted)
        and (chosen_platforms is None or g["platform"] is None or g["platform"] in chosen_platforms)
    ]
    totals = _totals_of(platforms)
    return {
        "language": link["language"],
        "range": {"from": chosen.first_day.isoformat(), "to": chosen.last_day.isoformat(), "time_zone": zone},
        "chosen_platforms": chosen_platforms,
        "expires_at": link["expires_at"].isoformat(),
        "totals": totals,
        "engagement_rate": _engagement_rate(totals),
        "platforms": platforms,
        "top_posts": [_post(r) for r in top],
        "goals": [_goal(g) for g in goals],
    }
