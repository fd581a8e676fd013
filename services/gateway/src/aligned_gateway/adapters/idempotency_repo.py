"""SQL for Idempotency-Key records: the first response to a POST, per brand, user and key."""

from __future__ import annotations

import uuid

import asyncpg
import orjson


async def reserve(
    conn,
    brand_id: uuid.UUID,
    user_id: str,
    key: str,
    method: str,
    path: str,
    body_hash: bytes,
    abandoned_after_s: float,
) -> asyncpg.Record | None:
    """Insert a pending record, or take over one for the same request that was abandoned (no
    response, reserved longer ago than any request can run); None means one exists already
    (returned by `existing`)."""
    return await conn.fetchrow(
        """INSERT INTO idempotency_keys AS k (brand_id, user_id, key, method, path, body_hash)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (brand_id, user_id, key) DO UPDATE SET created_at = now()
            WHERE k.status IS NULL AND NOT k.outcome_unknown AND k.body_hash = excluded.body_hash
              AND k.created_at < now() - make_interval(secs => $7)
           RETURNING key""",
        brand_id,
        user_id,
        key,
        method,
        path,
        body_hash,
        abandoned_after_s,
    )


async def existing(conn, brand_id: uuid.UUID, user_id: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM idempotency_keys WHERE brand_id = $1 AND user_id = $2 AND key = $3",
        brand_id,
        user_id,
        key,
    )


async def complete(conn, brand_id, user_id, key, status: int, headers: dict[str, str], body: bytes) -> None:
    await conn.execute(
        """UPDATE idempotency_keys SET status = $4, headers = $5::jsonb, body = $6
            WHERE brand_id = $1 AND user_id = $2 AND key = $3""",
        brand_id,
        user_id,
        key,
        status,
        orjson.dumps(headers).decode(),
        body,
    )


async def mark_unknown(conn, brand_id, user_id, key) -> None:
    await conn.execute(
        """UPDATE idempotency_keys SET outcome_unknown = true
            WHERE brand_id = $1 AND user_id = $2 AND key = $3 AND status IS NULL""",
        brand_id,
        user_id,
        key,
    )


async def release(conn, brand_id, user_id, key) -> None:
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE brand_id = $1 AND user_id = $2 AND key = $3 AND status IS NULL",
        brand_id,
        user_id,
        key,
    )


async def purge_older_than(conn, seconds: int) -> int:
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)", seconds
    )
    return int(result.split()[-1])
