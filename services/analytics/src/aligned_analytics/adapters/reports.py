"""Report queries. Every number is computed by PostgreSQL; Python only shapes the rows.

All reads sum `delta` (growth per snapshot) over [start, end) for one brand; the
observed_at bounds are what lets the planner prune to the partitions of the range.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_analytics.domain.metrics import ENGAGEMENT_METRICS, KNOWN_METRICS, REACH_METRIC
from aligned_common.units import Repository

# Shared by summary and per platform: current and previous period in one pass over the rows.
SUMMARY_SQL = """
WITH per_metric AS (
    SELECT metric,
           sum(delta) FILTER (WHERE observed_at >= $2) AS current,
           sum(delta) FILTER (WHERE observed_at < $2) AS previous
      FROM analytics_metrics
     WHERE brand_id = $1 AND observed_at >= $4 AND observed_at < $3
       AND ($5::text IS NULL OR platform = $5)
     GROUP BY metric),
totals AS (
    SELECT known.metric, coalesce(p.current, 0) AS current, coalesce(p.previous, 0) AS previous
      FROM unnest($6::text[]) AS known(metric) LEFT JOIN per_metric p USING (metric))
SELECT metric, current, previous,
       CASE WHEN previous = 0 THEN NULL ELSE round(((current - previous) / abs(previous) * 100)::numeric, 2) END
           AS change_pct,
       sum(current) FILTER (WHERE metric = ANY($7)) OVER ()
           / nullif(sum(current) FILTER (WHERE metric = $8) OVER (), 0) AS engagement_rate,
       sum(previous) FILTER (WHERE metric = ANY($7)) OVER ()
           / nullif(sum(previous) FILTER (WHERE metric = $8) OVER (), 0) AS previous_engagement_rate
  FROM totals
 ORDER BY array_position($6::text[], metric)
"""


def summary_args(
    brand_id: uuid.UUID, start: datetime, end: datetime, previous_start: datetime, platform: str | None
) -> tuple:
    return (
        brand_id,
        start,
        end,
        previous_start,
        platform,
        list(KNOWN_METRICS),
        list(ENGAGEMENT_METRICS),
        REACH_METRIC,
    )


# One row per post with a column per post metric; `rank_value` is what top-posts orders by.
_POST_ROWS = """
WITH per_post AS (
    SELECT m.connection_id, m.remote_id, min(m.platform) AS platform,
           sum(m.delta) FILTER (WHERE m.metric = 'impressions') AS impressions,
           sum(m.delta) FILTER (WHERE m.metric = 'likes') AS likes,
           sum(m.delta) FILTER (WHERE m.metric = 'shares') AS shares,
           sum(m.delta) FILTER (WHERE m.metric = 'comments') AS comments,
           sum(m.delta) FILTER (WHERE m.metric = 'quotes') AS quotes,
           sum(m.delta) FILTER (WHERE m.metric = ANY($4)) AS engagement,
           sum(m.delta) FILTER (WHERE m.metric = ANY($5)) AS rank_value
      FROM analytics_metrics m
     WHERE m.brand_id = $1 AND m.observed_at >= $2 AND m.observed_at < $3 AND m.remote_id <> ''
     GROUP BY m.connection_id, m.remote_id)
SELECT pp.connection_id, pp.remote_id, pp.platform, p.job_id, p.published_at,
       coalesce(pp.impressions, 0) AS impressions, coalesce(pp.likes, 0) AS likes,
       coalesce(pp.shares, 0) AS shares, coalesce(pp.comments, 0) AS comments, coalesce(pp.quotes, 0) AS quotes,
       coalesce(pp.engagement, 0) AS engagement,
       coalesce(pp.engagement, 0) / nullif(pp.impressions, 0) AS engagement_rate,
       coalesce(pp.rank_value, 0) AS rank_value
  FROM per_post pp
  LEFT JOIN posts p ON p.connection_id = pp.connection_id AND p.remote_id = pp.remote_id
"""


# Engagement gained by posts published in each hour of the week (of the brand's zone, the SQL
# parameter `zone_param`), per post on average.
# Only metrics observed after the range start can belong to posts published in it: that bound
# keeps the scan to the range's partitions and later ones.
def best_hours_sql(zone_param: str) -> str:
    return BEST_HOURS_SQL.replace("{zone}", zone_param)


BEST_HOURS_SQL = """
WITH per_post AS (
    SELECT p.connection_id, p.remote_id,
           extract(isodow FROM p.published_at AT TIME ZONE {zone})::int AS day_of_week,
           extract(hour FROM p.published_at AT TIME ZONE {zone})::int AS hour,
           coalesce(sum(m.delta), 0) AS engagement
      FROM posts p
      LEFT JOIN analytics_metrics m
        ON m.brand_id = p.brand_id AND m.connection_id = p.connection_id AND m.remote_id = p.remote_id
       AND m.metric = ANY($4) AND m.observed_at >= $2
     WHERE p.brand_id = $1 AND p.published_at >= $2 AND p.published_at < $3
     GROUP BY p.connection_id, p.remote_id, p.published_at),
per_hour AS (
    SELECT (day_of_week - 1) * 24 + hour AS hour_of_week, count(*) AS posts, sum(engagement) AS engagement
      FROM per_post GROUP BY 1)
SELECT how.hour_of_week, how.hour_of_week / 24 + 1 AS day_of_week, how.hour_of_week % 24 AS hour,
       coalesce(ph.posts, 0) AS posts, coalesce(ph.engagement, 0) AS engagement,
       coalesce(ph.engagement / ph.posts, 0) AS avg_engagement,
       coalesce(w.weight, 1.0) AS weight,
       coalesce(ph.engagement / ph.posts, 0) * coalesce(w.weight, 1.0) AS score
  FROM generate_series(0, 167) AS how(hour_of_week)
  LEFT JOIN per_hour ph USING (hour_of_week)
  LEFT JOIN advisor_weights w ON w.brand_id = $1 AND w.hour_of_week = how.hour_of_week
"""


class SqlReports(Repository):
    """The reports' queries."""

    async def summary(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        previous_start: datetime,
        platform: str | None = None,
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            SUMMARY_SQL, *summary_args(brand_id, start, end, previous_start, platform)
        )

    async def per_platform(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, previous_start: datetime
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            """
    WITH per_metric AS (
        SELECT platform, metric,
               sum(delta) FILTER (WHERE observed_at >= $2) AS current,
               sum(delta) FILTER (WHERE observed_at < $2) AS previous
          FROM analytics_metrics
         WHERE brand_id = $1 AND observed_at >= $4 AND observed_at < $3
         GROUP BY platform, metric),
    totals AS (
        SELECT platforms.platform, known.metric, coalesce(p.current, 0) AS current, coalesce(p.previous, 0) AS previous
          FROM (SELECT DISTINCT platform FROM per_metric) AS platforms
         CROSS JOIN unnest($5::text[]) AS known(metric)
          LEFT JOIN per_metric p ON p.platform = platforms.platform AND p.metric = known.metric)
    SELECT platform, metric, current, previous,
           CASE WHEN previous = 0 THEN NULL ELSE round(((current - previous) / abs(previous) * 100)::numeric, 2) END
               AS change_pct,
           sum(current) FILTER (WHERE metric = ANY($6)) OVER (PARTITION BY platform)
               / nullif(sum(current) FILTER (WHERE metric = $7) OVER (PARTITION BY platform), 0) AS engagement_rate
      FROM totals
     ORDER BY platform, array_position($5::text[], metric)""",
            brand_id,
            start,
            end,
            previous_start,
            list(KNOWN_METRICS),
            list(ENGAGEMENT_METRICS),
            REACH_METRIC,
        )

    async def page_of_posts(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        after: list[Any] | None,
        limit: int,
        job_id: uuid.UUID | None = None,
    ) -> list[asyncpg.Record]:
        """Per post, in a stable order (connection, remote id) so the cursor never skips a post;
        `job_id`: only the posts of that job (the gateway's post detail)."""
        return await self.conn.fetch(
            _POST_ROWS
            + """ WHERE ($6::uuid IS NULL OR (pp.connection_id, pp.remote_id) > ($6::uuid, $7::text))
                    AND ($9::uuid IS NULL OR p.job_id = $9)
                  ORDER BY pp.connection_id, pp.remote_id LIMIT $8""",
            brand_id,
            start,
            end,
            list(ENGAGEMENT_METRICS),
            list(ENGAGEMENT_METRICS),
            after[0] if after else None,
            after[1] if after else None,
            limit,
            job_id,
        )

    async def top_posts(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, ranked_metrics: list[str], limit: int
    ) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            _POST_ROWS + " ORDER BY rank_value DESC, pp.connection_id, pp.remote_id LIMIT $6",
            brand_id,
            start,
            end,
            list(ENGAGEMENT_METRICS),
            ranked_metrics,
            limit,
        )

    async def time_series(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        metrics: list[str],
        bucket: str,
        platform: str | None,
        zone: str = "UTC",
    ) -> list[asyncpg.Record]:
        """Growth per day or ISO week of the brand's zone; buckets without data are there with 0."""
        return await self.conn.fetch(
            """
    WITH points AS (
        SELECT date_trunc($5, observed_at AT TIME ZONE $7) AS bucket, sum(delta) AS value
          FROM analytics_metrics
         WHERE brand_id = $1 AND observed_at >= $2 AND observed_at < $3 AND metric = ANY($4)
           AND ($6::text IS NULL OR platform = $6)
         GROUP BY 1),
    buckets AS (
        SELECT generate_series(date_trunc($5, $2 AT TIME ZONE $7),
                               ($3 AT TIME ZONE $7) - interval '1 microsecond',
                               ('1 ' || $5)::interval) AS bucket)
    SELECT buckets.bucket::date AS bucket_start, coalesce(points.value, 0) AS value
      FROM buckets LEFT JOIN points USING (bucket)
     ORDER BY buckets.bucket""",
            brand_id,
            start,
            end,
            metrics,
            bucket,
            platform,
            zone,
        )

    async def best_hours(
        self,
        brand_id: uuid.UUID,
        start: datetime,
        end: datetime,
        metrics: list[str],
        order_by_score: bool,
        limit: int = 168,
        zone: str = "UTC",
    ) -> list[asyncpg.Record]:
        order = "score DESC, avg_engagement DESC, hour_of_week" if order_by_score else "hour_of_week"
        return await self.conn.fetch(
            best_hours_sql("$6") + f" ORDER BY {order} LIMIT $5", brand_id, start, end, metrics, limit, zone
        )

    async def report_top_posts(
        self, brand_id: uuid.UUID, start: datetime, end: datetime, platforms: list[str] | None, limit: int
    ) -> list[asyncpg.Record]:
        """The client report's top posts by engagement, on the chosen platforms (None: all),
        with what the target posted (its text and how many media) from publishing.job_created."""
        return await self.conn.fetch(
            "WITH ranked AS ("
            + _POST_ROWS
            + """ WHERE ($6::text[] IS NULL OR pp.platform = ANY($6))
                  ORDER BY rank_value DESC, pp.connection_id, pp.remote_id LIMIT $7)
            SELECT ranked.*, t.text, coalesce(t.media_count, 0) AS media_count
              FROM ranked
              LEFT JOIN LATERAL (
                   SELECT jt.text, jt.media_count FROM job_targets jt
                    WHERE jt.job_id = ranked.job_id AND jt.connection_id = ranked.connection_id
                    ORDER BY jt.target_id LIMIT 1) t ON true
             ORDER BY ranked.rank_value DESC, ranked.connection_id, ranked.remote_id""",
            brand_id,
            start,
            end,
            list(ENGAGEMENT_METRICS),
            list(ENGAGEMENT_METRICS),
            platforms,
            limit,
        )
