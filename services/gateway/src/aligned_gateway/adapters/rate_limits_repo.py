"""Token buckets in PostgreSQL: one atomic upsert per bucket, shared by every replica (ADR 0005)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class BucketState:
    allowed: bool
    tokens: float  # left after this request


# The refill and the take happen in one statement on one row: concurrent requests from any
# replica serialize on the row lock, so two of them can never spend the same token.
_TAKE = """
INSERT INTO rate_limit_buckets AS b (brand_id, bucket, tokens, allowed, updated_at)
VALUES ($1, $2, $3 - 1, true, clock_timestamp())
ON CONFLICT (brand_id, bucket) DO UPDATE SET
    allowed = LEAST($3, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * $4) >= 1,
    tokens = LEAST($3, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * $4)
             - CASE WHEN LEAST($3, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * $4) >= 1
                    THEN 1 ELSE 0 END,
    updated_at = clock_timestamp()
RETURNING allowed, tokens
"""


async def take(conn: asyncpg.Connection, brand_id: uuid.UUID, bucket: str, burst: float, rate_per_s: float) -> BucketState:
    row = await conn.fetchrow(_TAKE, brand_id, bucket, burst, rate_per_s)
    return BucketState(allowed=row["allowed"], tokens=float(row["tokens"]))
