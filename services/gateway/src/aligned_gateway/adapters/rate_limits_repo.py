"""Token buckets in PostgreSQL: one atomic upsert per bucket, shared by every replica (ADR 0005)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class BucketState:
    allowed: bool
    tokens: float  # left after this request


def _take_sql(bucket: str, burst: str, rate: str) -> str:
    """One bucket's refill and take in one upsert on one row: concurrent requests from any
    replica serialize on the row lock, so two of them can never spend the same token."""
    refilled = f"LEAST({burst}, b.tokens + EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at) * {rate})"
    return f"""
    INSERT INTO rate_limit_buckets AS b (brand_id, bucket, tokens, allowed, updated_at)
    VALUES ($1, {bucket}, {burst} - 1, true, clock_timestamp())
    ON CONFLICT (brand_id, bucket) DO UPDATE SET
        allowed = {refilled} >= 1,
        tokens = {refilled} - CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END,
        updated_at = clock_timestamp()
    RETURNING allowed, tokens"""


# Both buckets of a request in one round trip: two upserts of different rows in one statement.
_TAKE_BOTH = f"""
WITH brand AS ({_take_sql("'brand'", "$2::float8", "$3::float8")}),
     usr AS ({_take_sql("$4::text", "$5::float8", "$6::float8")})
SELECT brand.allowed AS brand_allowed, brand.tokens AS brand_tokens,
       usr.allowed AS user_allowed, usr.tokens AS user_tokens
  FROM brand, usr
"""


async def take_both(
    conn: asyncpg.Connection,
    brand_id: uuid.UUID,
    user_bucket: str,
    brand: tuple[float, float],
    user: tuple[float, float],
) -> tuple[BucketState, BucketState]:
    """Take one token from the brand's and one from the user's bucket; `brand`/`user` are (burst, rate)."""
    row = await conn.fetchrow(_TAKE_BOTH, brand_id, brand[0], brand[1], user_bucket, user[0], user[1])
    return (
        BucketState(allowed=row["brand_allowed"], tokens=float(row["brand_tokens"])),
        BucketState(allowed=row["user_allowed"], tokens=float(row["user_tokens"])),
    )
