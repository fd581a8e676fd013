"""The only place with SQL: the ports of service_layer/unit_of_work.py on asyncpg."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from aligned_common.app import Database
from aligned_common.db import UnitOfWork as Transaction
from aligned_example.domain.model import Brand


class BrandRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

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


class SqlUnitOfWork:
    """The handlers' unit of work over one open transaction (aligned_common.db.UnitOfWork:
    row-level security for its brand, and an outbox for what it emits)."""

    def __init__(self, transaction: Transaction) -> None:
        self.brands = BrandRepository(transaction.conn)


@asynccontextmanager
async def unit_of_work(database: Database, brand_id: uuid.UUID) -> AsyncIterator[SqlUnitOfWork]:
    """A route's transaction: commits when the block ends without an error."""
    async with Transaction(database.pool, database.schema, brand_id=brand_id) as transaction:
        yield SqlUnitOfWork(transaction)
