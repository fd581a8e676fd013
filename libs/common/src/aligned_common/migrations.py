"""A small migration runner: plain SQL files, checksums, a ledger, an advisory lock.

Files are `NNNN_name.sql`, applied in order, each in its own transaction with
search_path set to the service's schema. The backbone migrations of libs/common
(outbox, inbox) are applied first under the `common:` prefix. Editing a file
that was applied is refused: write a new migration instead. The one exception is a rewrite
that changes no schema once the runner has run (ADR 0018): the file then names the checksum
of its former text in a `-- replaces sha256 <hex>` line, and a ledger that recorded that text
counts it as applied (the ledger is left as it is, so an older release still agrees with it).

After a schema's migrations the runner secures the schema whatever its files say (ADR 0004):
every table with a `brand_id` column gets ENABLE + FORCE ROW LEVEL SECURITY, the
`brand_isolation` policy when it has none, and the `cross_brand_worker` policy for
`<schema>_worker`; every SECURITY DEFINER function gets a pinned search_path and loses
EXECUTE for PUBLIC; the service's login role (when it is not the migrating role) is checked
(no superuser, BYPASSRLS, CREATEROLE, NOINHERIT, owns nothing) and granted what it needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_REPLACES = re.compile(r"^-- replaces sha256 ([0-9a-f]{64})\s*$", re.MULTILINE)


class MigrationError(RuntimeError):
    pass


class ChangedMigration(MigrationError):
    """An applied migration's file no longer matches its recorded checksum."""


@dataclass(frozen=True)
class Migration:
    version: str  # "common:0001_outbox_inbox" or "0001_jobs"
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def recorded_as(self, checksum: str) -> bool:
        """The ledger's checksum is this text's, or a former text's this one replaces (ADR 0018)."""
        return checksum == self.checksum or checksum in _REPLACES.findall(self.sql)


def load_dir(directory: Path, prefix: str = "") -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        if not _FILE_NAME.match(path.name):
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(f"{prefix}{path.stem}", path.read_text()))
    return found


def backbone_migrations() -> list[Migration]:
    return load_dir(Path(str(resources.files("aligned_common") / "sql")), prefix="common:")


def _lock_key(schema: str) -> int:
    # A stable 63-bit key per schema: two runners of one service serialize, others don't wait.
    return int.from_bytes(hashlib.sha256(f"aligned.migrate.{schema}".encode()).digest()[:8], "big") >> 1


async def migrate(
    dsn: str, schema: str, service_dir: Path | None, *, login_role: str | None = None
) -> list[str]:
    """Apply what is missing; returns the versions applied now (empty: nothing to do).

    `dsn` is the migrating (owner) role's; `login_role` the role the service's pods log in as,
    when that is another role (deploy/local/postgres.sh and deploy/k8s make it so).
    """
    if not _SCHEMA_NAME.match(schema):
        raise MigrationError(f"bad schema name {schema!r}")
    migrations = backbone_migrations() + (load_dir(service_dir) if service_dir else [])
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
        try:
            done = await _apply_missing(conn, schema, migrations)
            await ensure_roles(conn, schema)
            await ensure_row_security(conn, schema)
            if login_role == await conn.fetchval("SELECT current_user"):
                login_role = None  # migrating as the service's own role: nothing to grant
            if login_role:
                await grant_login_role(conn, schema, login_role)  # refuses a role that could bypass RLS
            await secure_definer_functions(conn, schema, login_role)
            return done
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(schema))
    finally:
        await conn.close()


async def _apply_missing(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    # Only when absent: even CREATE SCHEMA IF NOT EXISTS needs CREATE on the database, which a
    # production role that owns just its schema does not have.
    if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.execute(
        f"""CREATE TABLE IF NOT EXISTS "{schema}".schema_migrations (
                version text PRIMARY KEY, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    applied = dict(await conn.fetch(f'SELECT version, checksum FROM "{schema}".schema_migrations'))
    done: list[str] = []
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None:
            if not migration.recorded_as(recorded):
                raise ChangedMigration(
                    f"{schema}: migration {migration.version} was changed after it was applied; "
                    "add a new migration instead"
                )
            continue
        async with conn.transaction():
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            await conn.execute(migration.sql)
            await conn.execute(
                f'INSERT INTO "{schema}".schema_migrations (version, checksum) VALUES ($1, $2)',
                migration.version,
                migration.checksum,
            )
        log.info("applied migration", extra={"ctx_schema": schema, "ctx_version": migration.version})
        done.append(migration.version)
    return done


async def ensure_roles(conn: asyncpg.Connection, schema: str) -> None:
    """`<schema>_app` sees one brand's rows; `<schema>_worker` every brand's, through the
    `cross_brand_worker` policies written on each table (ADR 0004). Neither bypasses RLS."""
    for role in (f"{schema}_app", f"{schema}_worker"):
        bypass = await conn.fetchval("SELECT rolbypassrls FROM pg_roles WHERE rolname = $1", role)
        if bypass is None:
            try:
                await conn.execute(f'CREATE ROLE "{role}" NOLOGIN NOBYPASSRLS')
            except asyncpg.DuplicateObjectError:
                pass  # created by a runner of another database in the same cluster
        elif bypass:
            # Made by an earlier runner, when the worker role bypassed RLS.
            try:
                await conn.execute(f'ALTER ROLE "{role}" NOBYPASSRLS')
            except asyncpg.InsufficientPrivilegeError:
                raise MigrationError(
                    f"{role} has BYPASSRLS and this role may not remove it; run "
                    f'ALTER ROLE "{role}" NOBYPASSRLS as a superuser (docs/operations.md)'
                ) from None
        await conn.execute(
            f"""GRANT USAGE ON SCHEMA "{schema}" TO "{role}";
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}";
                GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}";
                GRANT "{role}" TO CURRENT_USER"""
        )


BRAND_ISOLATION = """CREATE POLICY brand_isolation ON {table}
    USING (brand_id = nullif(current_setting('aligned.brand_id', true), '')::uuid)
    WITH CHECK (brand_id = nullif(current_setting('aligned.brand_id', true), '')::uuid)"""
CROSS_BRAND_WORKER = (
    'CREATE POLICY cross_brand_worker ON {table} TO "{worker}" USING (true) WITH CHECK (true)'
)


async def ensure_row_security(conn: asyncpg.Connection, schema: str) -> list[str]:
    """Every table of the schema with a brand_id column (partitions too: they can be read
    directly) is under FORCE ROW LEVEL SECURITY, with brand_isolation unless the migration
    wrote policies of its own; every table under RLS lets `<schema>_worker` cross brands.
    Returns the tables changed."""
    rows = await conn.fetch(
        """SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relrowsecurity AS enabled,
                  c.relforcerowsecurity AS forced,
                  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'brand_id'
                          AND NOT a.attisdropped) AS has_brand,
                  EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                          AND p.polname <> 'cross_brand_worker') AS has_policy,
                  EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                          AND p.polname = 'cross_brand_worker') AS has_worker_policy
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
            ORDER BY c.relname""",
        schema,
    )
    changed = []
    for row in rows:
        if not (row["has_brand"] or row["enabled"]):
            continue
        table, steps = row["name"], []
        if row["has_brand"] and not row["enabled"]:
            steps.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        if row["has_brand"] and not row["forced"]:
            steps.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        if row["has_brand"] and not row["has_policy"]:
            steps.append(BRAND_ISOLATION.format(table=table))
        if not row["has_worker_policy"]:
            steps.append(CROSS_BRAND_WORKER.format(table=table, worker=f"{schema}_worker"))
        if steps:
            async with conn.transaction():
                for step in steps:
                    await conn.execute(step)
            log.info(
                "secured table", extra={"ctx_schema": schema, "ctx_table": table, "ctx_steps": len(steps)}
            )
            changed.append(table)
    return changed


async def secure_definer_functions(
    conn: asyncpg.Connection, schema: str, login_role: str | None = None
) -> list[str]:
    """A SECURITY DEFINER function runs with its owner's rights: its search_path is pinned
    (else a caller's temp schema could shadow the tables it names) and only the schema's own
    roles may call it. Returns the functions it looked at."""
    rows = await conn.fetch(
        """SELECT p.oid::regprocedure::text AS name,
                  EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}')) c WHERE c LIKE 'search_path=%') AS pinned
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = $1 AND p.prosecdef
            ORDER BY 1""",
        schema,
    )
    callers = ", ".join(f'"{r}"' for r in (f"{schema}_app", f"{schema}_worker", login_role) if r)
    for row in rows:
        function = row["name"]  # regprocedure text is schema-qualified and quoted as needed
        async with conn.transaction():
            if not row["pinned"]:
                await conn.execute(f'ALTER FUNCTION {function} SET search_path = "{schema}", pg_temp')
            await conn.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
            await conn.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {callers}")
    return [r["name"] for r in rows]


async def grant_login_role(conn: asyncpg.Connection, schema: str, login_role: str) -> None:
    """The role a service's pods log in as: it may switch to `<schema>_app` or `<schema>_worker`
    and, as itself, holds the app role's table rights under RLS (a query that forgot to open a
    unit of work sees no brand's rows). Refused loudly when the role could get round RLS."""
    role = await conn.fetchrow(
        """SELECT rolsuper, rolbypassrls, rolcreaterole, rolinherit,
                  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE n.nspname = $2 AND c.relowner = r.oid) AS owns
             FROM pg_roles r WHERE rolname = $1""",
        login_role,
        schema,
    )
    if role is None:
        raise MigrationError(
            f"login role {login_role!r} does not exist (deploy/local/postgres.sh or deploy/k8s makes it)"
        )
    wrong = [
        what
        for what, bad in (
            ("SUPERUSER", role["rolsuper"]),
            ("BYPASSRLS", role["rolbypassrls"]),
            ("CREATEROLE", role["rolcreaterole"]),
            ("INHERIT", role["rolinherit"]),
            (f"owns tables of {schema}", role["owns"]),
        )
        if bad
    ]
    if wrong:
        # INHERIT: a member of <schema>_worker would fall under its cross-brand policies as itself.
        raise MigrationError(f"login role {login_role!r} must not have: {', '.join(wrong)} (ADR 0004)")
    await conn.execute(
        f"""GRANT USAGE ON SCHEMA "{schema}" TO "{login_role}";
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{login_role}";
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{login_role}";
            GRANT "{schema}_app", "{schema}_worker" TO "{login_role}" """
    )


async def ensure_login_role(dsn: str, role: str, password: str) -> None:
    """A service's local login role (what deploy/local/postgres.sh makes; for test clusters
    that script did not start). Needs a role that may create roles."""
    conn = await asyncpg.connect(dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            with contextlib.suppress(asyncpg.DuplicateObjectError):
                await conn.execute(f'CREATE ROLE "{role}"')
        await conn.execute(
            f"""ALTER ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT
                PASSWORD '{password.replace("'", "''")}'"""
        )
    finally:
        await conn.close()


async def status(dsn: str, schema: str, service_dir: Path | None) -> list[tuple[str, str]]:
    """Each known migration with 'applied', 'pending' or 'changed' (for the operator CLI)."""
    migrations = backbone_migrations() + (load_dir(service_dir) if service_dir else [])
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".schema_migrations')
        applied = (
            dict(await conn.fetch(f'SELECT version, checksum FROM "{schema}".schema_migrations'))
            if exists
            else {}
        )
    finally:
        await conn.close()
    result = []
    for m in migrations:
        recorded = applied.get(m.version)
        result.append(
            (
                m.version,
                "pending" if recorded is None else "applied" if m.recorded_as(recorded) else "changed",
            )
        )
    return result
