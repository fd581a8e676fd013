"""SQL for review links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aligned_common.units import Repository

Row = dict[str, Any]
_COLUMNS = "id, brand_id, approval_id, recipient, created_by, created_at, expires_at, revoked_at, used_at, used_decision"


class SqlLinks(Repository):
    """Review links."""

    async def insert(
        self,
        brand_id: uuid.UUID,
        approval_id: uuid.UUID,
        *,
        recipient: str | None,
        created_by: str,
        expires_at: datetime,
    ) -> Row:
        record = await self.conn.fetchrow(
            f"""INSERT INTO review_links (id, brand_id, approval_id, recipient, created_by, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}""",
            uuid.uuid4(),
            brand_id,
            approval_id,
            recipient,
            created_by,
            expires_at,
        )
        return dict(record)

    async def get(self, brand_id: uuid.UUID, link_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        record = await self.conn.fetchrow(
            f"SELECT {_COLUMNS} FROM review_links WHERE brand_id = $1 AND id = $2"
            + (" FOR UPDATE" if lock else ""),
            brand_id,
            link_id,
        )
        return dict(record) if record else None

    async def of_round(self, brand_id: uuid.UUID, approval_id: uuid.UUID) -> list[Row]:
        records = await self.conn.fetch(
            f"SELECT {_COLUMNS} FROM review_links WHERE brand_id = $1 AND approval_id = $2 ORDER BY created_at",
            brand_id,
            approval_id,
        )
        return [dict(r) for r in records]

    async def revoke(self, brand_id: uuid.UUID, approval_id: uuid.UUID, link_id: uuid.UUID) -> bool:
        result = await self.conn.execute(
            """UPDATE review_links SET revoked_at = coalesce(revoked_at, now())
               WHERE brand_id = $1 AND approval_id = $2 AND id = $3""",
            brand_id,
            approval_id,
            link_id,
        )
        return result.endswith(" 1")

    async def mark_used(self, link_id: uuid.UUID, decision: str) -> None:
        await self.conn.execute(
            "UPDATE review_links SET used_at = now(), used_decision = $2 WHERE id = $1", link_id, decision
        )
