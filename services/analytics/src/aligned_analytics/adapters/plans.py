"""Auto plans: posting slots for the next days, chosen in SQL from best hours and weights."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_analytics.adapters.reports import best_hours_sql
from aligned_analytics.domain.advisor import DEFAULT_HOURS
from aligned_common.units import Repository


class SqlPlans(Repository):
    """Auto plans and their slots."""

    async def create_plan(
        self,
        *,
        plan_id: uuid.UUID,
        brand_id: uuid.UUID,
        tenant_id: uuid.UUID,
        created_by: str,
        days: int,
        posts_per_day: int,
        lookback_start: datetime,
        now: datetime,
        engagement_metrics: list[str],
        connection_ids: list[uuid.UUID] | None,
        zone: str = "UTC",
    ) -> int:
        """Stores the plan and its slots; returns how many slots it has (0: no active account)."""
        await self.conn.execute(
            """INSERT INTO auto_plans (plan_id, brand_id, tenant_id, created_by, days, posts_per_day, status)
               VALUES ($1, $2, $3, $4, $5, $6, 'proposed')""",
            plan_id,
            brand_id,
            tenant_id,
            created_by,
            days,
            posts_per_day,
        )
        # Each of the next `days` days (of the brand's zone) gets its `posts_per_day` best-scoring
        # local hours of that weekday, for every active account. Ties (e.g. no history) prefer DEFAULT_HOURS.
        result = await self.conn.execute(
            f"""
    WITH scores AS ({best_hours_sql("$10")}),
    days AS (
        SELECT day::date FROM generate_series(($3 AT TIME ZONE $10)::date + 1,
                                              ($3 AT TIME ZONE $10)::date + $5::int, interval '1 day') AS day),
    ranked AS (
        SELECT d.day, s.hour, s.score,
               row_number() OVER (PARTITION BY d.day
                                  ORDER BY s.score DESC, (s.hour = ANY($9::int[])) DESC, abs(s.hour - 12), s.hour) AS rank
          FROM days d JOIN scores s ON s.day_of_week = extract(isodow FROM d.day))
    INSERT INTO auto_plan_slots (plan_id, brand_id, connection_id, platform, at, score)
    SELECT $6, $1, a.connection_id, a.platform, (r.day + make_interval(hours => r.hour)) AT TIME ZONE $10, r.score
      FROM ranked r
     CROSS JOIN accounts a
     WHERE r.rank <= $7 AND a.brand_id = $1 AND a.status = 'active'
       AND ($8::uuid[] IS NULL OR a.connection_id = ANY($8))""",
            brand_id,
            lookback_start,
            now,
            engagement_metrics,
            days,
            plan_id,
            posts_per_day,
            connection_ids,
            list(DEFAULT_HOURS),
            zone,
        )
        return int(result.split()[-1])

    async def plan(self, brand_id: uuid.UUID, plan_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM auto_plans WHERE brand_id = $1 AND plan_id = $2", brand_id, plan_id
        )

    async def slots(self, plan_id: uuid.UUID) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT connection_id, platform, at, score FROM auto_plan_slots WHERE plan_id = $1 ORDER BY at, platform, connection_id",
            plan_id,
        )

    async def accept(self, brand_id: uuid.UUID, plan_id: uuid.UUID, user_id: str) -> bool:
        return bool(
            await self.conn.fetchval(
                """UPDATE auto_plans SET status = 'accepted', accepted_at = now(), accepted_by = $3
                    WHERE brand_id = $1 AND plan_id = $2 AND status = 'proposed' RETURNING true""",
                brand_id,
                plan_id,
                user_id,
            )
        )

    async def page_of_plans(
        self, brand_id: uuid.UUID, after: list[Any] | None, limit: int
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            """SELECT * FROM auto_plans
                WHERE brand_id = $1 AND ($2::timestamptz IS NULL OR (created_at, plan_id) < ($2::timestamptz, $3::uuid))
                ORDER BY created_at DESC, plan_id DESC LIMIT $4""",
            brand_id,
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
