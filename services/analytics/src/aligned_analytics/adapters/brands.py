"""Each brand's time zone, as the gateway announced it."""

from __future__ import annotations

import uuid

from aligned_common.units import Repository


class SqlBrands(Repository):
    """Each brand's time zone (from the gateway's brand_created)."""

    async def set_time_zone(self, brand_id: uuid.UUID, time_zone: str) -> None:
        await self.conn.execute(
            """INSERT INTO brands (brand_id, time_zone) VALUES ($1, $2)
               ON CONFLICT (brand_id) DO UPDATE SET time_zone = excluded.time_zone, updated_at = now()""",
            brand_id,
            time_zone,
        )

    async def time_zone(self, brand_id: uuid.UUID) -> str:
        """The brand's zone; UTC for a brand analytics has not heard of."""
        return await self.conn.fetchval("SELECT time_zone FROM brands WHERE brand_id = $1", brand_id) or "UTC"
