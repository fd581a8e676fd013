"""The only place with SQL: the ports of service_layer/ports.py on asyncpg, bound to the
transaction of aligned_common.db (row-level security for its brand, an outbox for its events)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

from aligned_brandkit.domain.model import KitVersion
from aligned_common.events.brandkit import BrandKit
from aligned_common.units import BoundUnitOfWork, Repository

COLUMNS = "brand_id, version, kit::text AS kit, author_id, created_at, restored_from"


def _version(row: Mapping[str, Any]) -> KitVersion:
    return KitVersion(
        row["brand_id"],
        row["version"],
        BrandKit.model_validate_json(row["kit"]),
        row["author_id"],
        row["created_at"],
        row["restored_from"],
    )


class SqlKits(Repository):
    async def current(self, brand_id: uuid.UUID, *, for_update: bool = False) -> KitVersion | None:
        # The lock is on the kit's row: two updates of one kit queue there, and the second then
        # sees the first's version (and is refused as stale).
        lock = " FOR UPDATE OF k" if for_update else ""
        row = await self.conn.fetchrow(
            f"""SELECT {", ".join("v." + c.strip() for c in COLUMNS.split(","))}
                  FROM brand_kits k JOIN brand_kit_versions v
                    ON v.brand_id = k.brand_id AND v.version = k.current_version
                 WHERE k.brand_id = $1{lock}""",
            brand_id,
        )
        return None if row is None else _version(row)

    async def version(self, brand_id: uuid.UUID, version: int) -> KitVersion | None:
        row = await self.conn.fetchrow(
            f"SELECT {COLUMNS} FROM brand_kit_versions WHERE brand_id = $1 AND version = $2",
            brand_id,
            version,
        )
        return None if row is None else _version(row)

    async def versions(self, brand_id: uuid.UUID, before: int | None, limit: int) -> list[KitVersion]:
        rows = await self.conn.fetch(
            f"""SELECT {COLUMNS} FROM brand_kit_versions
                 WHERE brand_id = $1 AND ($2::int IS NULL OR version < $2)
                 ORDER BY version DESC LIMIT $3""",
            brand_id,
            before,
            limit,
        )
        return [_version(r) for r in rows]

    async def add(self, version: KitVersion) -> bool:
        if version.version == 1:
            made = await self.conn.fetchval(
                """INSERT INTO brand_kits (brand_id, current_version, updated_at) VALUES ($1, 1, $2)
                   ON CONFLICT (brand_id) DO NOTHING RETURNING true""",
                version.brand_id,
                version.created_at,
            )
            if not made:
                return False
        await self.conn.execute(
            """INSERT INTO brand_kit_versions (brand_id, version, kit, author_id, created_at, restored_from)
               VALUES ($1, $2, $3::jsonb, $4, $5, $6)""",
            version.brand_id,
            version.version,
            version.kit.model_dump_json(),
            version.author_id,
            version.created_at,
            version.restored_from,
        )
        if version.version > 1:
            await self.conn.execute(
                "UPDATE brand_kits SET current_version = $2, updated_at = $3 WHERE brand_id = $1",
                version.brand_id,
                version.version,
                version.created_at,
            )
        return True


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.kits = SqlKits(conn)
