"""aligned-admin outbox status and migrations status/wait, against a real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from aligned_common.admin.migrations_status import ServiceMigrations, migration_status, wait_until_applied
from aligned_common.db import UnitOfWork
from aligned_common.events.approval import Approved
from aligned_common.migrations import migrate

from .conftest import json_of

pytestmark = pytest.mark.integration


def approval() -> Approved:
    return Approved(approval_id=uuid.uuid4(), job_id=uuid.uuid4(), round=1, decided_by="client")


async def test_outbox_status_shows_what_waits_how_long_and_what_keeps_failing(
    infra, pg_pool, scratch_schema, admin
):
    await migrate(infra.database_url, scratch_schema, None)
    code, out = await admin("--json", "outbox", "status", "--service", scratch_schema, "--check")
    [empty] = json_of(out)
    assert code == 0 and empty["pending"] == 0 and empty["lag_seconds"] == 0

    brand, tenant = uuid.uuid4(), uuid.uuid4()
    async with UnitOfWork(pg_pool, scratch_schema, brand_id=brand, role="owner") as uow:
        for _ in range(3):
            await uow.emit(approval(), brand_id=brand, tenant_id=tenant)
    await pg_pool.execute(
        f"""UPDATE "{scratch_schema}".outbox SET created_at = now() - interval '10 minutes'"""
    )
    await pg_pool.execute(f"""UPDATE "{scratch_schema}".outbox SET published_at = now()
                              WHERE seq = (SELECT min(seq) FROM "{scratch_schema}".outbox)""")
    await pg_pool.execute(f"""UPDATE "{scratch_schema}".outbox SET attempts = 4, last_error = 'KafkaConnectionError: broker down'
                              WHERE seq = (SELECT max(seq) FROM "{scratch_schema}".outbox)""")

    code, out = await admin("--json", "outbox", "status", "--service", scratch_schema, "--check")
    [status] = json_of(out)
    assert code == 1, "an outbox that lags and fails is reported unhealthy"
    assert status["pending"] == 2 and status["failing"] == 1
    assert 590 <= status["lag_seconds"] < 3600
    assert status["last_error"] == "KafkaConnectionError: broker down" and status["last_published_at"]


async def test_migration_status_and_wait_follow_what_the_migration_job_applies(
    infra, scratch_schema, tmp_path
):
    (tmp_path / "0001_things.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    migrations = ServiceMigrations(scratch_schema, tmp_path)
    assert ("0001_things", "pending") in await migration_status(infra.database_url, migrations)
    with pytest.raises(TimeoutError, match="0001_things"):
        await wait_until_applied(infra.database_url, migrations, timeout_s=0.3, poll_s=0.1)

    await migrate(infra.database_url, scratch_schema, tmp_path)  # what the Job does
    assert "0001_things" in await wait_until_applied(infra.database_url, migrations, timeout_s=5, poll_s=0.1)
    assert all(state == "applied" for _, state in await migration_status(infra.database_url, migrations))

    (tmp_path / "0001_things.sql").write_text("CREATE TABLE things (id bigint PRIMARY KEY);")
    with pytest.raises(RuntimeError, match="changed"):
        await wait_until_applied(infra.database_url, migrations, timeout_s=5, poll_s=0.1)


async def test_migrations_status_command_names_the_service_schema_and_each_migration(infra, admin):
    # The real approval service's migrations, as the init container of its pods checks them.
    code, out = await admin("migrations", "status", "--service", "approval")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert rows and all(schema == "approval" for schema, _, _ in rows)
    assert "common:0001_outbox_inbox" in {version for _, version, _ in rows}
    assert (code == 0) == all(state == "applied" for _, _, state in rows), "exit 1 while anything is pending"
