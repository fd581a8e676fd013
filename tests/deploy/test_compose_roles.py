"""The database roles docker compose makes work: every service's real migrations run as its
`<service>_owner` (no superuser, no BYPASSRLS) and grant its login role, made by the same SQL
(deploy/postgres/service-roles.sh) on a real PostgreSQL. Each service runs in a scratch schema
of its own, with scratch roles, all dropped afterwards."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from aligned_common.migrations import migrate
from aligned_testing.infra import REPO_ROOT
from aligned_testing.schemas import drop_schema
from tests.deploy.test_compose import SERVICES, role_sql

pytestmark = pytest.mark.integration


def as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}:{password}@{parts.hostname}:{parts.port}"))


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_migrates_as_its_owner_role_and_runs_as_its_login_role(infra, service):
    name, password = f"t_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    admin = await asyncpg.connect(infra.database_url)
    try:
        await admin.execute(
            role_sql(f"service_owner_role_sql {name} {password}", f"service_login_role_sql {name} {password}")
        )
        await migrate(
            as_role(infra.database_url, f"{name}_owner", password),
            name,
            REPO_ROOT / "services" / service / "migrations",
            login_role=name,
        )
        owners = {
            r["owner"]
            for r in await admin.fetch(
                """SELECT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')""",
                name,
            )
        }
        assert owners == {f"{name}_owner"}
        roles = {
            r["rolname"]: r
            for r in await admin.fetch(
                "SELECT rolname, rolsuper, rolbypassrls, rolinherit, rolcreaterole FROM pg_roles WHERE rolname = ANY($1)",
                [name, f"{name}_owner"],
            )
        }
        assert not any(r["rolsuper"] or r["rolbypassrls"] for r in roles.values())
        assert not roles[name]["rolinherit"] and not roles[name]["rolcreaterole"]
        # The login role reaches its schema: the runner granted it.
        login = await asyncpg.connect(as_role(infra.database_url, name, password))
        try:
            assert await login.fetchval(f'SELECT count(*) FROM "{name}".schema_migrations') > 0
        finally:
            await login.close()
    finally:
        await drop_schema(infra.database_url, name)
        for role in (name, f"{name}_owner"):
            await admin.execute(f'DROP OWNED BY "{role}"')
            await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()
