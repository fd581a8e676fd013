"""Writing metric snapshots (upserted: a re-sync of the same observation changes nothing)."""

from __future__ import annotations

import uuid

from aligned_analytics.adapters.partitions import SqlPartitions
from aligned_analytics.domain.metrics import Snapshot
from aligned_common.units import Repository


class SqlMetrics(Repository):
    """Metric snapshots (upserted: a re-sync of the same observation changes nothing)."""

    async def store_snapshots(
        self,
        *,
        brand_id: uuid.UUID,
        connection_id: uuid.UUID,
        platform: str,
        sync_id: uuid.UUID | None,
        snapshots: list[Snapshot],
    ) -> int:
        if not snapshots:
            return 0
        await SqlPartitions(self.conn).ensure_months_of([s.observed_at for s in snapshots])
        # Oldest first, so each snapshot's growth is computed against the one stored just before it.
        ordered = sorted(snapshots, key=lambda s: (s.observed_at, s.remote_id, s.metric))
        await self.conn.executemany(
            "SELECT analytics_record_point($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                (brand_id, connection_id, platform, s.remote_id, s.metric, s.value, s.observed_at, sync_id)
                for s in ordered
            ],
        )
        return len(ordered)
