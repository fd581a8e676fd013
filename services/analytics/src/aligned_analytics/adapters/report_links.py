"""SQL for client report links (only the token's hash is stored)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aligned_common.units import Repository

_COLUMNS = """link_id, brand_id, first_day, last_day, platforms, goal_ids, language, created_by,
              created_at, expires_at, revoked_at"""


class SqlReportLinks(Repository):
    """service_layer.ports.ReportLinks over the unit of work's connection."""

    async def add(self, link: dict[str, Any]) -> None:
        await self.conn.execute(
            """INSERT INTO report_links (link_id, brand_id, token_hash, first_day, last_day, platforms,
                                         goal_ids, language, created_by, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            link["link_id"],
            link["brand_id"],
            link["token_hash"],
            link["first_day"],
            link["last_day"],
            link["platforms"],
            link["goal_ids"],
            link["language"],
            link["created_by"],
            link["created_at"],
            link["expires_at"],
        )

    async def of_brand(self, brand_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM report_links WHERE brand_id = $1 ORDER BY created_at, link_id",
            brand_id,
        )
        return [dict(r) for r in rows]

    async def revoke(self, brand_id: uuid.UUID, link_id: uuid.UUID, now: datetime) -> bool:
        """False when the brand has no such link; revoking twice keeps the first time."""
        found = await self.conn.fetchval(
            """UPDATE report_links SET revoked_at = coalesce(revoked_at, $3)
                WHERE brand_id = $1 AND link_id = $2 RETURNING link_id""",
            brand_id,
            link_id,
            now,
        )
        return found is not None

    async def by_token(self, token_hash: str) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM report_links WHERE token_hash = $1", token_hash
        )
        return dict(row) if row is not None else None

    async def known_goals(self, brand_id: uuid.UUID, goal_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await self.conn.fetch(
            """SELECT goal_id FROM analytics_goals
                WHERE brand_id = $1 AND goal_id = ANY($2) AND archived_at IS NULL""",
            brand_id,
            goal_ids,
        )
        return {r["goal_id"] for r in rows}
