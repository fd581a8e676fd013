"""The only place with SQL: the ports of service_layer/ports.py on asyncpg, bound to the
transaction of aligned_common.db (row-level security for its brand, an outbox for its events)."""

from __future__ import annotations

import uuid

import asyncpg

from aligned_common.units import BoundUnitOfWork, Repository
from aligned_example.domain.model import Brand


class SqlBrands(Repository):
    async def get(self, brand_id: uuid.UUID) -> Brand | None:
        row = await self.conn.fetchrow(
            "SELECT brand_id, name, named_at FROM brands WHERE brand_id = $1", brand_id
        )
        return None if row is None else Brand(row["brand_id"], row["name"], row["named_at"])

    async def save(self, brand: Brand) -> None:
        await self.conn.execute(
            """INSERT INTO brands (brand_id, name, named_at) VALUES ($1, $2, $3)
               ON CONFLICT (brand_id) DO UPDATE SET name = excluded.name, named_at = excluded.named_at""",
            brand.brand_id,
            brand.name,
            brand.named_at,
        )


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.brands = SqlBrands(conn)
