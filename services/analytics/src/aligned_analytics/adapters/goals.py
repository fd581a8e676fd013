"""Goals and their progress, computed in SQL for the period containing a given instant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_analytics.domain.metrics import ENGAGEMENT, ENGAGEMENT_METRICS
from aligned_common.units import Repository

# For each (goal, instant): the goal's period containing the instant and the growth within it.
# Periods are calendar periods of the brand's time zone. The pseudo-metric 'engagement' adds up the engagement metrics. A period's length is
# `period_length` ('1 quarter' is not a PostgreSQL interval: a quarter is 3 months).
_PROGRESS = """
WITH zone AS (SELECT coalesce((SELECT time_zone FROM brands WHERE brand_id = $1), 'UTC') AS tz),
asked AS (
    SELECT DISTINCT g.goal_id, z.tz, date_trunc(g.period, t AT TIME ZONE z.tz) AS period_start,
           CASE g.period WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' || g.period)::interval END AS period_length
      FROM analytics_goals g CROSS JOIN unnest($2::timestamptz[]) AS t CROSS JOIN zone z
     WHERE g.brand_id = $1 AND g.archived_at IS NULL AND ($3::uuid IS NULL OR g.goal_id = $3)),
progress AS (
    SELECT g.goal_id, g.metric, g.target, g.period, g.platform, g.connection_id, g.created_by, g.created_at,
           a.period_start::date AS period_start,
           (a.period_start + a.period_length)::date - 1 AS period_end,
           coalesce((
               SELECT sum(m.delta) FROM analytics_metrics m
                WHERE m.brand_id = g.brand_id
                  AND m.metric = ANY(CASE WHEN g.metric = $4 THEN $5::text[] ELSE ARRAY[g.metric] END)
                  AND m.observed_at >= a.period_start AT TIME ZONE a.tz
                  AND m.observed_at < (a.period_start + a.period_length) AT TIME ZONE a.tz
                  AND (g.platform IS NULL OR m.platform = g.platform)
                  AND (g.connection_id IS NULL OR m.connection_id = g.connection_id)), 0) AS value
      FROM asked a JOIN analytics_goals g USING (goal_id))
"""


def _progress_args(brand_id, instants, goal_id=None) -> tuple:
    return (brand_id, instants, goal_id, ENGAGEMENT, list(ENGAGEMENT_METRICS))


class SqlGoals(Repository):
    """Goals, their progress and the periods they were reached in."""

    async def create_goal(self, **goal: Any) -> None:
        await self.conn.execute(
            """INSERT INTO analytics_goals (goal_id, brand_id, tenant_id, metric, target, period, platform,
                                            connection_id, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            goal["goal_id"],
            goal["brand_id"],
            goal["tenant_id"],
            goal["metric"],
            goal["target"],
            goal["period"],
            goal["platform"],
            goal["connection_id"],
            goal["created_by"],
        )

    async def progress_now(
        self, brand_id: uuid.UUID, now: datetime, goal_id: uuid.UUID | None = None
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            _PROGRESS
            + """SELECT p.*, least(p.value / p.target, 1.0) AS progress,
                        EXISTS (SELECT 1 FROM goal_achievements ga
                                 WHERE ga.goal_id = p.goal_id AND ga.period_start = p.period_start) AS reached
                   FROM progress p ORDER BY p.created_at, p.goal_id""",
            *_progress_args(brand_id, [now], goal_id),
        )

    async def record_reached(self, brand_id: uuid.UUID, instants: list[datetime]) -> list[asyncpg.Record]:
        """Goals that crossed their target in the periods of `instants` and were not reached there
        before; the unique (goal_id, period_start) row makes each one come back exactly once."""
        return await self.conn.fetch(
            _PROGRESS
            + """, inserted AS (
                   INSERT INTO goal_achievements (goal_id, period_start, brand_id, value)
                   SELECT goal_id, period_start, $1, value FROM progress WHERE value >= target
                   ON CONFLICT (goal_id, period_start) DO NOTHING
                   RETURNING goal_id, period_start, value)
                 SELECT i.goal_id, i.period_start, i.value, p.metric, p.target, p.period_end
                   FROM inserted i JOIN progress p USING (goal_id, period_start)""",
            *_progress_args(brand_id, instants),
        )

    async def archive_goal(self, brand_id: uuid.UUID, goal_id: uuid.UUID) -> bool:
        return bool(
            await self.conn.fetchval(
                """UPDATE analytics_goals SET archived_at = now()
                    WHERE brand_id = $1 AND goal_id = $2 AND archived_at IS NULL RETURNING true""",
                brand_id,
                goal_id,
            )
        )
