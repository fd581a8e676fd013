"""docs/architecture.md's ownership table lists exactly the tables each service's migrations make.

Every service's migrations run into a scratch schema on the real PostgreSQL; its tables (not the
backbone's, not partitions) are compared with the backticked names of its row's "owns" cell.
"""

from __future__ import annotations

import re
import uuid

import asyncpg
import pytest

from aligned_common.migrations import migrate
from aligned_testing.infra import REPO_ROOT
from aligned_testing.schemas import drop_schema

pytestmark = pytest.mark.integration

ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
SERVICES = sorted(p.parent.name for p in (REPO_ROOT / "services").glob("*/migrations") if p.is_dir())


def documented_tables() -> dict[str, set[str]]:
    """schema -> the tables its row of "Services and what they own" names in backticks."""
    text = ARCHITECTURE.read_text()
    section = text[text.index("## Services and what they own") :]
    section = section[: section.index("\n\n")]
    owned: dict[str, set[str]] = {}
    for line in section.splitlines()[2:]:  # below the header and its rule
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        schema = re.fullmatch(r"`(\w+)`", cells[1])
        if schema:
            owned[schema.group(1)] = set(re.findall(r"`(\w+)`", cells[2]))
    return owned


async def tables_of(database_url: str, schema: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition""",
            schema,
        )
    finally:
        await conn.close()
    return {r["relname"] for r in rows}


def test_the_table_has_a_row_for_every_service_with_migrations():
    assert sorted(documented_tables()) == SERVICES


@pytest.mark.parametrize("service", SERVICES)
async def test_the_ownership_table_names_every_table_the_migrations_make(infra, service):
    backbone, schema = f"t_doc_{uuid.uuid4().hex[:10]}", f"t_doc_{uuid.uuid4().hex[:10]}"
    try:
        await migrate(infra.database_url, backbone, None)  # outbox, inbox, ledger: listed once, in prose
        await migrate(infra.database_url, schema, REPO_ROOT / "services" / service / "migrations")
        made = await tables_of(infra.database_url, schema) - await tables_of(infra.database_url, backbone)
    finally:
        await drop_schema(infra.database_url, backbone)
        await drop_schema(infra.database_url, schema)
    assert documented_tables()[service] == made
