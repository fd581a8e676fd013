"""A pooled connection never carries one brand's scope, role or session state to its next user,
although a unit of work now sends the pool's reset in its COMMIT's round trip (docs/performance.md):
the pool skips its own reset query only after a unit of work sent it.

Each test uses a pool of ONE connection, so every use is the same backend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from aligned_common.db import UnitOfWork, create_pool, fetchval_clean
from aligned_common.migrations import migrate

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema(infra, scratch_schema, tmp_path) -> str:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_notes.sql").write_text(
        "CREATE TABLE notes (id uuid PRIMARY KEY, brand_id uuid NOT NULL, body text NOT NULL);"
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")  # RLS by brand, app/worker roles
    return scratch_schema


@pytest.fixture
async def logged_pool(infra) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    queries: list[str] = []

    async def log_queries(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: queries.append(record.query))

    pool = await create_pool(infra.database_url, min_size=1, max_size=1, init=log_queries)
    yield pool, queries
    await pool.close()


async def _session(pool: asyncpg.Pool) -> asyncpg.Record:
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT coalesce(current_setting('aligned.brand_id', true), '') AS brand, current_user AS role,"
            " current_setting('search_path') AS search_path, current_setting('statement_timeout') AS timeout"
        )


async def _notes_seen_as_app_without_a_brand(pool: asyncpg.Pool, schema: str) -> int:
    """What the service's RLS-bound role reads when nobody set a brand on this use: nothing,
    unless a brand GUC was left on the connection."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f'SET LOCAL ROLE "{schema}_app"')
        count: int = await conn.fetchval(f'SELECT count(*) FROM "{schema}".notes')
        return count


async def test_a_committed_unit_of_work_leaves_no_brand_role_or_session_setting_behind(schema, logged_pool):
    pool, _ = logged_pool
    before = await _session(pool)
    brand_a = uuid.uuid4()
    async with UnitOfWork(pool, schema, brand_id=brand_a) as uow:
        await uow.conn.execute("INSERT INTO notes VALUES ($1, $2, 'a')", uuid.uuid4(), brand_a)
        # A careless handler: session-level settings, not SET LOCAL; they outlive COMMIT.
        await uow.conn.execute(f"SET aligned.brand_id = '{brand_a}'")
        await uow.conn.execute("SET statement_timeout = '1234ms'")
    after = await _session(pool)
    assert (after["brand"], after["role"], after["search_path"], after["timeout"]) == (
        before["brand"],
        before["role"],
        before["search_path"],
        before["timeout"],
    )
    assert after["brand"] == "" and after["timeout"] != "1234ms"
    assert await _notes_seen_as_app_without_a_brand(pool, schema) == 0
    async with UnitOfWork(pool, schema, brand_id=uuid.uuid4()) as uow:  # another brand: sees none
        assert await uow.conn.fetchval("SELECT count(*) FROM notes") == 0
    async with UnitOfWork(pool, schema, brand_id=brand_a) as uow:  # the row is there for its brand
        assert await uow.conn.fetchval("SELECT count(*) FROM notes") == 1


async def test_a_rolled_back_unit_of_work_leaves_nothing_behind_either(infra, schema, logged_pool):
    """A session-level advisory lock outlives ROLLBACK (a SET in the transaction does not): the
    reset sent with the ROLLBACK releases it."""
    pool, _ = logged_pool
    key = uuid.uuid4().int >> 65
    with pytest.raises(RuntimeError):
        async with UnitOfWork(pool, schema, brand_id=uuid.uuid4()) as uow:
            await uow.conn.execute("SELECT pg_advisory_lock($1)", key)
            raise RuntimeError("the handler failed")
    other = await asyncpg.connect(infra.database_url)
    try:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", key) is True
    finally:
        await other.close()


async def test_other_uses_of_a_pooled_connection_still_get_the_pools_own_reset(schema, logged_pool):
    """The relay and the inbox's bare reads use the pool without a unit of work: the pool resets."""
    pool, _ = logged_pool
    brand_a = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute(f'INSERT INTO "{schema}".notes VALUES ($1, $2, $3)', uuid.uuid4(), brand_a, "a")
        await conn.execute(f"SET aligned.brand_id = '{brand_a}'")
    assert (await _session(pool))["brand"] == ""
    assert await _notes_seen_as_app_without_a_brand(pool, schema) == 0


async def test_a_failed_commit_leaves_the_connection_to_the_pools_reset(schema, logged_pool):
    """COMMIT fails (a deferred constraint): the reset folded after it never ran, so the pool
    sends its own."""
    pool, queries = logged_pool
    async with pool.acquire() as conn:
        await conn.execute(
            f'ALTER TABLE "{schema}".notes ADD CONSTRAINT body_once UNIQUE (body) DEFERRABLE INITIALLY DEFERRED'
        )
    await asyncio.sleep(0)
    queries.clear()
    brand_a = uuid.uuid4()
    with pytest.raises(asyncpg.UniqueViolationError):
        async with UnitOfWork(pool, schema, brand_id=brand_a) as uow:
            await uow.conn.execute("INSERT INTO notes VALUES ($1, $2, 'x')", uuid.uuid4(), brand_a)
            await uow.conn.execute("INSERT INTO notes VALUES ($1, $2, 'x')", uuid.uuid4(), brand_a)
    await asyncio.sleep(0)
    assert queries[-1].startswith("SELECT pg_advisory_unlock_all()"), queries
    assert (await _session(pool))["brand"] == ""


async def test_a_unit_of_work_takes_three_round_trips_the_reset_included(schema, logged_pool):
    """BEGIN with the scope, the statement, COMMIT with the reset: the pool adds none (it used to
    add `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` as a fourth)."""
    pool, queries = logged_pool
    await _session(pool)  # the connection's first use: asyncpg's type lookups
    await asyncio.sleep(0)
    queries.clear()
    brand_a = uuid.uuid4()
    for _ in range(2):
        async with UnitOfWork(pool, schema, brand_id=brand_a) as uow:
            await uow.conn.execute("INSERT INTO notes VALUES ($1, $2, 'a')", uuid.uuid4(), brand_a)
    await asyncio.sleep(0)  # the logger's callbacks are scheduled with call_soon
    assert len(queries) == 6, queries
    assert queries[0].startswith("BEGIN") and queries[2].startswith("COMMIT") and "RESET ALL" in queries[2]
    assert not any(q.startswith("SELECT pg_advisory_unlock_all") for q in queries), queries


async def test_a_clean_read_skips_the_reset_and_a_plain_one_does_not(schema, logged_pool):
    """The inbox's redelivery check (one plain SELECT) vouches for its connection; a bare
    `pool.fetchval` does not, and gets the pool's reset."""
    pool, queries = logged_pool
    await _session(pool)
    await asyncio.sleep(0)
    queries.clear()
    assert await fetchval_clean(pool, f'SELECT count(*) FROM "{schema}".notes') == 0
    await pool.fetchval("SELECT 1")
    await asyncio.sleep(0)
    assert len(queries) == 3 and queries[2].startswith("SELECT pg_advisory_unlock_all()"), queries
