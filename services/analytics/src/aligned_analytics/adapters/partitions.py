"""Monthly partitions of analytics_metrics: created ahead, created on demand, dropped by retention."""

from __future__ import annotations

from datetime import datetime

from aligned_common.units import Repository


class SqlPartitions(Repository):
    """Monthly partitions of analytics_metrics."""

    async def ensure_months_ahead(self, months_ahead: int) -> list[str]:
        """Create this month and the next `months_ahead` ones; returns the partitions created now."""
        rows = await self.conn.fetch(
            """SELECT 'analytics_metrics_' || to_char(month, 'YYYYMM') AS name, analytics_ensure_partition(month) AS created
                 FROM (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m))::date AS month
                         FROM generate_series(0, $1::int) AS m) AS months""",
            months_ahead,
        )
        return [row["name"] for row in rows if row["created"]]

    async def ensure_months_of(self, observed_ats: list[datetime]) -> None:
        """A batch may carry an old or far-future month no maintenance run has created yet."""
        await self.conn.execute(
            """SELECT analytics_ensure_partition(month)
                 FROM (SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC')::date AS month
                         FROM unnest($1::timestamptz[]) AS t) AS months""",
            observed_ats,
        )

    async def drop_expired(self, retention_months: int) -> list[str]:
        """Drop whole months older than the retention window (the current month counts as one)."""
        return [
            row[0]
            for row in await self.conn.fetch(
                """SELECT analytics_drop_partitions_before(
                       (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $1::int - 1))::date)""",
                retention_months,
            )
        ]

    async def partition_names(self) -> list[str]:
        rows = await self.conn.fetch(
            """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'analytics_metrics'::regclass ORDER BY c.relname"""
        )
        return [row[0] for row in rows]
