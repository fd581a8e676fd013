"""Row-level security holds even when a service's code is wrong (ADR 0004).

Every service's real migrations are applied with its real login role; then every table with a
brand_id column holds a row, and the login role and the app role, without a brand set, read
none of them, while the worker role (cross-brand by its written-down policy) reads them all.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from aligned_common.localrun import LOCAL_LOGIN_PASSWORD, login_url
from aligned_common.migrations import MigrationError, ensure_login_role, migrate
from aligned_testing.infra import REPO_ROOT
from aligned_testing.schemas import drop_schema

pytestmark = pytest.mark.integration

SERVICE_SCHEMAS = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/migrations") if p.is_dir())

# A value of each type a NOT NULL column without default may need; CHECK constraints and
# foreign keys are switched off for the test's transaction (it is rolled back).
_VALUES = {
    "uuid": "gen_random_uuid()",
    "text": "'x'",
    "character varying": "'x'",
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "numeric": "1",
    "double precision": "1",
    "real": "1",
    "boolean": "false",
    "timestamp with time zone": "now()",
    "timestamp without time zone": "now()",
    "date": "current_date",
    "jsonb": "'{}'",
    "json": "'{}'",
    "bytea": "'\\x00'",
    "interval": "'1 hour'",
    "inet": "'127.0.0.1'",
}


async def _brand_tables(conn: asyncpg.Connection, schema: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind, c.relrowsecurity,
                  c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'brand_id'
                          AND NOT a.attisdropped)
            ORDER BY c.relname""",
        schema,
    )


async def _insert_row(conn: asyncpg.Connection, table_oid: int, name: str) -> None:
    columns = await conn.fetch(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, t.typtype, a.atttypid,
                  a.attndims > 0 OR t.typcategory = 'A' AS is_array
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
              AND a.attgenerated = '' AND a.attidentity = ''
              AND NOT EXISTS (SELECT 1 FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum)""",
        table_oid,
    )
    # A range partition takes only rows inside its bounds: its key gets the lower bound.
    bound = await conn.fetchrow(
        """SELECT a.attname, substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(([^)]*)\\)') AS lower
             FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
             JOIN pg_partitioned_table pt ON pt.partrelid = i.inhparent
             JOIN pg_attribute a ON a.attrelid = i.inhparent AND a.attnum = pt.partattrs[0]
            WHERE c.oid = $1 AND c.relispartition""",
        table_oid,
    )
    names, values = ['"brand_id"'], ["gen_random_uuid()"]
    for col in columns:
        if col["attname"] == "brand_id":
            continue
        if bound and col["attname"] == bound["attname"]:
            value = bound["lower"]
        elif col["is_array"]:
            value = "'{}'"
        elif col["typtype"] == "e":
            value = repr(
                await conn.fetchval(
                    "SELECT enumlabel FROM pg_enum WHERE enumtypid=$1 ORDER BY enumsortorder LIMIT 1",
                    col["atttypid"],
                )
            )
        else:
            base = col["type"].split("(")[0]
            assert base in _VALUES, f"{name}.{col['attname']}: add a test value for type {col['type']}"
            value = _VALUES[base]
        names.append(f'"{col["attname"]}"')
        values.append(f"{value}::{col['type']}")
    await conn.execute(f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join(values)})")


@pytest.fixture
async def migrated(infra) -> list[str]:
    """The services' real schemas, as make up and the e2e platform migrate them."""
    for schema in SERVICE_SCHEMAS:
        await ensure_login_role(infra.database_url, schema, LOCAL_LOGIN_PASSWORD)
        await migrate(
            infra.database_url, schema, REPO_ROOT / "services" / schema / "migrations", login_role=schema
        )
    return SERVICE_SCHEMAS


@pytest.fixture
async def scratch_copy(infra, request) -> AsyncIterator[tuple[str, str]]:
    """(scratch schema, its login role): one service's migrations in a schema of its own, so
    the test may fill every table (and drop CHECK constraints) without touching real data."""
    service = request.param
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await ensure_login_role(infra.database_url, schema, LOCAL_LOGIN_PASSWORD)
    try:
        await migrate(
            infra.database_url, schema, REPO_ROOT / "services" / service / "migrations", login_role=schema
        )
        yield schema, schema
    finally:
        await drop_schema(infra.database_url, schema)
        conn = await asyncpg.connect(infra.database_url)
        try:
            await conn.execute(f'DROP OWNED BY "{schema}"')
            await conn.execute(f'DROP ROLE "{schema}"')
        finally:
            await conn.close()


async def test_every_brand_table_is_forced_under_row_level_security(infra, migrated):
    conn = await asyncpg.connect(infra.database_url)
    try:
        for schema in migrated:
            tables = await _brand_tables(conn, schema)
            assert tables, f"{schema} has no table with brand_id"
            for t in tables:
                assert t["relrowsecurity"] and t["relforcerowsecurity"], f"{t['name']} is not under FORCE RLS"
                policies = {
                    r["polname"]
                    for r in await conn.fetch("SELECT polname FROM pg_policy WHERE polrelid=$1", t["oid"])
                }
                assert "cross_brand_worker" in policies and len(policies) >= 2, (t["name"], policies)
                assert t["owner"] != schema, f"{t['name']} is owned by the login role {schema}"
    finally:
        await conn.close()


async def test_the_service_login_roles_cannot_get_round_row_level_security(infra, migrated):
    conn = await asyncpg.connect(infra.database_url)
    try:
        for schema in migrated:
            role = await conn.fetchrow(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolinherit, rolcanlogin FROM pg_roles WHERE rolname=$1",
                schema,
            )
            assert dict(role) == {
                "rolsuper": False,
                "rolbypassrls": False,
                "rolcreaterole": False,
                "rolinherit": False,
                "rolcanlogin": True,
            }, schema
            for suffix in ("app", "worker"):
                assert (
                    await conn.fetchval(
                        "SELECT rolbypassrls FROM pg_roles WHERE rolname=$1", f"{schema}_{suffix}"
                    )
                    is False
                )
    finally:
        await conn.close()


async def test_security_definer_functions_pin_search_path_and_are_not_public(infra, migrated):
    conn = await asyncpg.connect(infra.database_url)
    try:
        rows = await conn.fetch(
            """SELECT n.nspname, p.oid::regprocedure::text AS name, p.proconfig,
                      has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.prosecdef AND n.nspname = ANY($1::text[])""",
            migrated,
        )
        assert rows, "the services have SECURITY DEFINER functions (partition management)"
        for r in rows:
            assert any(c.startswith("search_path=") for c in r["proconfig"] or []), r["name"]
            assert not r["public_may"], f"PUBLIC may execute {r['name']}"
            for role in (r["nspname"], f"{r['nspname']}_app", f"{r['nspname']}_worker"):
                assert await conn.fetchval(
                    "SELECT has_function_privilege($1, $2::regprocedure, 'EXECUTE')", role, r["name"]
                )
    finally:
        await conn.close()


async def test_an_unprotected_brand_table_of_a_new_migration_is_protected_by_the_runner(
    infra, scratch_schema, tmp_path
):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "0001_forgot.sql").write_text(
        "CREATE TABLE notes (id int PRIMARY KEY, brand_id uuid NOT NULL);"
    )
    await migrate(infra.database_url, scratch_schema, tmp_path / "m")
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f'INSERT INTO "{scratch_schema}".notes VALUES (1, gen_random_uuid())')
        async with conn.transaction():
            await conn.execute(f'SET LOCAL ROLE "{scratch_schema}_app"')
            assert await conn.fetchval(f'SELECT count(*) FROM "{scratch_schema}".notes') == 0
        async with conn.transaction():
            await conn.execute(f'SET LOCAL ROLE "{scratch_schema}_worker"')
            assert await conn.fetchval(f'SELECT count(*) FROM "{scratch_schema}".notes') == 1
    finally:
        await conn.close()


async def test_a_login_role_that_could_bypass_row_level_security_is_refused(infra, scratch_schema, tmp_path):
    role = f"{scratch_schema}_login"
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f'CREATE ROLE "{role}" LOGIN BYPASSRLS INHERIT')
        with pytest.raises(MigrationError, match="BYPASSRLS, INHERIT"):
            await migrate(infra.database_url, scratch_schema, None, login_role=role)
    finally:
        await conn.execute(f'DROP OWNED BY "{role}"')
        await conn.execute(f'DROP ROLE "{role}"')
        await conn.close()


@pytest.mark.parametrize("scratch_copy", SERVICE_SCHEMAS, indirect=True)
async def test_without_a_brand_the_login_and_app_roles_read_no_row_of_any_brand_table(infra, scratch_copy):
    schema, login_role = scratch_copy
    owner = await asyncpg.connect(infra.database_url)
    login = await asyncpg.connect(login_url(infra.database_url, login_role))
    try:
        tables = await _brand_tables(owner, schema)
        assert tables
        async with owner.transaction():  # committed: the login role's session must see the rows
            await owner.execute("SET LOCAL session_replication_role = replica")  # no FK checks, no triggers
            for t in tables:
                if t["relkind"] != "r":
                    continue  # a partitioned table's rows live in its partitions
                for c in await owner.fetch(
                    "SELECT conname FROM pg_constraint WHERE conrelid=$1 AND contype='c'", t["oid"]
                ):
                    await owner.execute(f'ALTER TABLE {t["name"]} DROP CONSTRAINT "{c["conname"]}"')
                await _insert_row(owner, t["oid"], t["name"])
            for t in tables:
                if t["relkind"] == "p" and not await owner.fetchval(f"SELECT count(*) FROM {t['name']}"):
                    # Partitions made on demand (none yet): a default one takes a row through the parent.
                    await owner.execute(
                        f"CREATE TABLE {t['name']}_test_default PARTITION OF {t['name']} DEFAULT"
                    )
                    await _insert_row(owner, t["oid"], t["name"])
        filled = {t["name"]: await owner.fetchval(f"SELECT count(*) FROM {t['name']}") for t in tables}
        assert all(filled.values()), f"could not fill {[k for k, n in filled.items() if not n]}"

        for t in tables:
            # As itself, the way a query that forgot its unit of work would run.
            assert await login.fetchval(f"SELECT count(*) FROM {t['name']}") == 0, (
                f"login role reads {t['name']}"
            )
            async with login.transaction():
                await login.execute(f'SET LOCAL ROLE "{schema}_app"')
                assert await login.fetchval(f"SELECT count(*) FROM {t['name']}") == 0, (
                    f"{schema}_app reads {t['name']}"
                )
                await login.execute("SELECT set_config('aligned.brand_id', $1, true)", str(uuid.uuid4()))
                assert await login.fetchval(f"SELECT count(*) FROM {t['name']}") == 0, (
                    f"another brand reads {t['name']}"
                )
            async with login.transaction():
                await login.execute(f'SET LOCAL ROLE "{schema}_worker"')
                assert await login.fetchval(f"SELECT count(*) FROM {t['name']}") == filled[t["name"]], t[
                    "name"
                ]
    finally:
        await login.close()
        await owner.close()
