"""A small migration runner: plain SQL files, checksums, a ledger, an advisory lock.

Files are `NNNN_name.sql`, applied in order, each in its own transaction with
search_path set to the service's schema. The backbone migrations of libs/common
(outbox, inbox) are applied first under the `common:` prefix. Editing a file
that was applied is refused: write a new migration instead.
"""

from __future__ import annotations

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


async def migrate(dsn: str, schema: str, service_dir: Path | None) -> list[str]:
    """Apply what is missing; returns the versions applied now (empty: nothing to do)."""
    if not _SCHEMA_NAME.match(schema):
        raise MigrationError(f"bad schema name {schema!r}")
    migrations = backbone_migrations() + (load_dir(service_dir) if service_dir else [])
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(schema))
        try:
            return await _apply_missing(conn, schema, migrations)
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
            if recorded != migration.checksum:
                raise ChangedMigration(
                    f"{schema}: migration {migration.version} was changed after it was applied; "
                    "add a new migration instead"
                )
            continue
        async with conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO \"{schema}\", public")
            await conn.execute(migration.sql)
            await conn.execute(
                f'INSERT INTO "{schema}".schema_migrations (version, checksum) VALUES ($1, $2)',
                migration.version,
                migration.checksum,
            )
        log.info("applied migration", extra={"ctx_schema": schema, "ctx_version": migration.version})
        done.append(migration.version)
    await ensure_roles(conn, schema)
    return done


async def ensure_roles(conn: asyncpg.Connection, schema: str) -> None:
    """`<schema>_app` is subject to row-level security; `<schema>_worker` bypasses it (ADR 0004)."""
    for role, bypass in ((f"{schema}_app", "NOBYPASSRLS"), (f"{schema}_worker", "BYPASSRLS")):
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        if not exists:
            try:
                await conn.execute(f'CREATE ROLE "{role}" NOLOGIN {bypass}')
            except asyncpg.DuplicateObjectError:
                pass  # created by a runner of another database in the same cluster
        await conn.execute(
            f"""GRANT USAGE ON SCHEMA "{schema}" TO "{role}";
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}";
                GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}";
                GRANT "{role}" TO CURRENT_USER"""
        )


async def status(dsn: str, schema: str, service_dir: Path | None) -> list[tuple[str, str]]:
    """Each known migration with 'applied', 'pending' or 'changed' (for the operator CLI)."""
    migrations = backbone_migrations() + (load_dir(service_dir) if service_dir else [])
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f'"{schema}".schema_migrations')
        applied = dict(await conn.fetch(f'SELECT version, checksum FROM "{schema}".schema_migrations')) if exists else {}
    finally:
        await conn.close()
    result = []
    for m in migrations:
        recorded = applied.get(m.version)
        result.append((m.version, "pending" if recorded is None else "applied" if recorded == m.checksum else "changed"))
    return result
