"""Clean up after a test that ran a service in a scratch schema."""

from __future__ import annotations

import asyncpg


async def drop_schema(database_url: str, schema: str) -> None:
    """Drop the schema and the `_app`/`_worker` roles the migration runner made for it."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        for role in (f"{schema}_app", f"{schema}_worker"):
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await conn.execute(f'DROP OWNED BY "{role}"')
                await conn.execute(f'DROP ROLE "{role}"')
    finally:
        await conn.close()
