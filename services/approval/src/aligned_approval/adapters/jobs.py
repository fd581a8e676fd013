"""SQL for the jobs this service knows of (from publishing's job_created events)."""

from __future__ import annotations

import uuid

import asyncpg


async def remember(conn: asyncpg.Connection, brand_id: uuid.UUID, job_id: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO known_jobs (brand_id, job_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", brand_id, job_id
    )


async def known(conn: asyncpg.Connection, brand_id: uuid.UUID, job_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM known_jobs WHERE brand_id = $1 AND job_id = $2", brand_id, job_id
    ))
