"""Monthly partitions: created ahead, dropped past retention, and pruned by the report queries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from aligned_analytics.adapters import reports
from aligned_analytics.adapters.partitions import SqlPartitions
from aligned_analytics.domain.ranges import DateRange
from aligned_analytics.service_layer.scheduler import maintain
from aligned_common.db import UnitOfWork

pytestmark = pytest.mark.integration


def month_name(day: date) -> str:
    return f"analytics_metrics_{day:%Y%m}"


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def relations_in(plan) -> set[str]:
    found = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for value in plan.values():
            found |= relations_in(value)
    elif isinstance(plan, list):
        for value in plan:
            found |= relations_in(value)
    return found


async def test_maintenance_creates_months_ahead_and_drops_expired_ones(analytics):
    this_month = datetime.now(UTC).date().replace(day=1)
    expired = add_months(this_month, -14)
    async with UnitOfWork(analytics.pool, analytics.schema, role="worker") as uow:
        await SqlPartitions(uow.conn).ensure_months_of(
            [datetime(expired.year, expired.month, 15, tzinfo=UTC)]
        )
    settings = analytics.settings.model_copy(update={"partitions_ahead_months": 6, "retention_months": 13})

    outcome = await maintain(analytics.uows, settings)

    async with UnitOfWork(analytics.pool, analytics.schema, role="worker") as uow:
        names = set(await SqlPartitions(uow.conn).partition_names())
    assert month_name(expired) in outcome["dropped"] and month_name(expired) not in names
    assert {month_name(add_months(this_month, m)) for m in range(7)} <= names
    assert "analytics_metrics_default" not in names  # normal months never land in a catch-all
    again = await maintain(analytics.uows, settings)
    assert again["created"] == [] and again["dropped"] == []


async def test_a_30_day_summary_reads_only_the_partitions_of_its_months(analytics, brand):
    today = datetime.now(UTC).date()
    chosen = DateRange(today - timedelta(days=29), today)
    previous = chosen.previous()
    args = reports.summary_args(brand.brand_id, chosen.start, chosen.end, previous.start, None)
    await maintain(analytics.uows, analytics.settings.model_copy(update={"partitions_ahead_months": 6}))
    async with UnitOfWork(analytics.pool, analytics.schema, brand_id=brand.brand_id) as uow:
        all_partitions = set(await SqlPartitions(uow.conn).partition_names())
        plan = json.loads(await uow.conn.fetchval("EXPLAIN (FORMAT JSON) " + reports.SUMMARY_SQL, *args))

    needed = set()
    month = previous.first_day.replace(day=1)
    while month <= chosen.last_day:
        needed.add(month_name(month))
        month = add_months(month, 1)
    scanned = relations_in(plan)
    assert scanned and scanned <= needed, f"scanned {scanned}, needed only {needed}"
    future = {month_name(add_months(today.replace(day=1), m)) for m in range(1, 7)}
    assert future <= all_partitions and not future & scanned  # the months ahead were pruned away
