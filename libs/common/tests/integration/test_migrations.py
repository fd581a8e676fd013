import asyncio
import hashlib
from pathlib import Path

import asyncpg
import pytest

import aligned_common
from aligned_common.migrations import ChangedMigration, migrate, status

pytestmark = pytest.mark.integration

# Every schema gets the backbone migrations (outbox, inbox) before its own, in this order.
# Every service schema's first migrations: libs/common's own (outbox, inbox, their indexes).
COMMON = [f"common:{p.stem}" for p in sorted((Path(aligned_common.__file__).parent / "sql").glob("*.sql"))]


def _write(directory, name, sql):
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(sql)


async def test_migrating_twice_is_a_no_op(infra, scratch_schema, tmp_path):
    _write(tmp_path / "m", "0001_things.sql", "CREATE TABLE things (id int PRIMARY KEY);")

    first = await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    second = await migrate(infra.database_url, scratch_schema, tmp_path / "m")

    assert first == [*COMMON, "0001_things"]
    assert second == []
    conn = await asyncpg.connect(infra.database_url)
    try:
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname=$1", scratch_schema)
        }
    finally:
        await conn.close()
    assert {"things", "outbox", "processed_events", "schema_migrations"} <= tables


async def test_two_runners_at_once_do_not_collide(infra, scratch_schema, tmp_path):
    # Not idempotent and slow on purpose: without the advisory lock the second runner
    # would try CREATE TABLE again while the first is still inside its transaction.
    _write(tmp_path / "m", "0001_slow.sql", "SELECT pg_sleep(1); CREATE TABLE slow (id int);")
    _write(tmp_path / "m", "0002_more.sql", "CREATE TABLE more (id int);")

    results = await asyncio.gather(
        migrate(infra.database_url, scratch_schema, tmp_path / "m"),
        migrate(infra.database_url, scratch_schema, tmp_path / "m"),
    )

    assert sorted(len(r) for r in results) == [0, len(COMMON) + 2]
    states = await status(infra.database_url, scratch_schema, tmp_path / "m")
    assert [s for _, s in states] == ["applied"] * (len(COMMON) + 2)


async def test_an_edited_applied_migration_is_refused(infra, scratch_schema, tmp_path):
    _write(tmp_path / "m", "0001_things.sql", "CREATE TABLE things (id int);")
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    _write(tmp_path / "m", "0001_things.sql", "CREATE TABLE things (id bigint);")
    _write(tmp_path / "m", "0002_later.sql", "CREATE TABLE later (id int);")

    with pytest.raises(ChangedMigration, match="0001_things was changed"):
        await migrate(infra.database_url, scratch_schema, tmp_path / "m")

    states = dict(await status(infra.database_url, scratch_schema, tmp_path / "m"))
    assert states == {**dict.fromkeys(COMMON, "applied"), "0001_things": "changed", "0002_later": "pending"}


async def test_a_rewrite_that_names_the_applied_text_counts_as_applied(infra, scratch_schema, tmp_path):
    # ADR 0018: a block the runner does anyway leaves an applied file; the ledger keeps the old
    # checksum (an older release, still running, agrees with it) and nothing runs again.
    former = "CREATE TABLE things (brand_id uuid);\nALTER TABLE things ENABLE ROW LEVEL SECURITY;\n"
    _write(tmp_path / "m", "0001_things.sql", former)
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    replaces = f"-- replaces sha256 {hashlib.sha256(former.encode()).hexdigest()}\n"
    _write(tmp_path / "m", "0001_things.sql", replaces + "CREATE TABLE things (brand_id uuid);\n")

    assert await migrate(infra.database_url, scratch_schema, tmp_path / "m") == []
    assert dict(await status(infra.database_url, scratch_schema, tmp_path / "m"))["0001_things"] == "applied"

    # Naming some other text's checksum does not make an edit acceptable.
    other = f"-- replaces sha256 {hashlib.sha256(b'something else').hexdigest()}\n"
    _write(tmp_path / "m", "0001_things.sql", other + "CREATE TABLE things (brand_id uuid);\n")
    with pytest.raises(ChangedMigration, match="0001_things was changed"):
        await migrate(infra.database_url, scratch_schema, tmp_path / "m")


async def test_a_failing_migration_leaves_nothing_half_applied(infra, scratch_schema, tmp_path):
    _write(tmp_path / "m", "0001_bad.sql", "CREATE TABLE half (id int); SELECT 1/0;")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    conn = await asyncpg.connect(infra.database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass($1)", f"{scratch_schema}.half") is None
    finally:
        await conn.close()
