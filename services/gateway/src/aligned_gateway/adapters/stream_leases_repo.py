"""Leases of open live event streams, shared by every replica (migration 0003):
service_layer.ports.LeaseStore on the gateway's schema."""

from __future__ import annotations

import uuid

from aligned_common.app import Database
from aligned_common.db import UnitOfWork

# Openings of one brand's streams take turns (a transaction-scoped advisory lock per schema
# and brand): two replicas counting at once could each see room for the one stream left.
_TURN = "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':stream_leases:' || $1::uuid::text, 0))"

_COUNT = """SELECT count(*) AS brand, count(*) FILTER (WHERE user_id = $2) AS user
              FROM stream_leases WHERE brand_id = $1 AND expires_at > clock_timestamp()"""


class PostgresLeaseStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def try_acquire(
        self,
        lease_id: uuid.UUID,
        brand_id: uuid.UUID,
        user_id: str,
        *,
        ttl_s: float,
        max_per_user: int,
        max_per_brand: int,
        released: list[uuid.UUID],
    ) -> str | None:
        """Take a lease if the user and the brand are under their caps (in the brand's unit of
        work); None when taken, else the scope whose cap is reached ("user" or "brand").
        `released`: leases of streams this replica closed whose rows may not be deleted yet."""
        async with UnitOfWork(self._database.pool, self._database.schema, brand_id=brand_id) as uow:
            conn = uow.conn
            await conn.execute(_TURN, brand_id)
            await conn.execute(
                """DELETE FROM stream_leases
                    WHERE brand_id = $1 AND (expires_at <= clock_timestamp() OR lease_id = ANY($2::uuid[]))""",
                brand_id,
                released,
            )
            counts = await conn.fetchrow(_COUNT, brand_id, user_id)
            if counts["user"] >= max_per_user:
                return "user"
            if counts["brand"] >= max_per_brand:
                return "brand"
            await conn.execute(
                """INSERT INTO stream_leases (lease_id, brand_id, user_id, expires_at)
                   VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))""",
                lease_id,
                brand_id,
                user_id,
                ttl_s,
            )
            return None

    async def renew_and_release(self, held: list[uuid.UUID], released: list[uuid.UUID], ttl_s: float) -> None:
        """One replica's round, across brands (worker role): its open streams' leases live on,
        its closed ones' go."""
        async with UnitOfWork(self._database.pool, self._database.schema, role="worker") as uow:
            if released:
                await uow.conn.execute("DELETE FROM stream_leases WHERE lease_id = ANY($1::uuid[])", released)
            if held:
                await uow.conn.execute(
                    "UPDATE stream_leases SET expires_at = clock_timestamp() + make_interval(secs => $2) "
                    "WHERE lease_id = ANY($1::uuid[])",
                    held,
                    ttl_s,
                )
