"""Migration status of a service, and waiting for it (the Deployment's init container)."""

from __future__ import annotations

import asyncio
import importlib
import time
from dataclasses import dataclass
from pathlib import Path

from aligned_common.migrations import status


@dataclass(frozen=True)
class ServiceMigrations:
    schema: str
    directory: Path | None


def of_service(service: str) -> ServiceMigrations:
    """The schema and migrations a service's image carries, from its own bootstrap."""
    definition = importlib.import_module(f"aligned_{service}.bootstrap").build()
    return ServiceMigrations(definition.name, definition.migrations_dir)


async def migration_status(dsn: str, migrations: ServiceMigrations) -> list[tuple[str, str]]:
    return await status(dsn, migrations.schema, migrations.directory)


async def wait_until_applied(
    dsn: str, migrations: ServiceMigrations, timeout_s: float, poll_s: float = 2.0
) -> list[str]:
    """Returns once nothing is pending; raises if a migration was changed or time runs out.

    The migration Job applies them; a new pod waits here so it never runs against an older
    schema, while the pods of the previous version keep serving.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            rows = await migration_status(dsn, migrations)
        except OSError:
            rows = None  # the database is not reachable yet: keep waiting
        if rows is not None:
            changed = [v for v, s in rows if s == "changed"]
            if changed:
                raise RuntimeError(
                    f"{migrations.schema}: applied migrations were changed: {', '.join(changed)}"
                )
            pending = [v for v, s in rows if s == "pending"]
            if not pending:
                return [v for v, _ in rows]
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"{migrations.schema}: migrations still pending after {timeout_s:.0f}s: {pending if rows else 'database unreachable'}"
            )
        await asyncio.sleep(poll_s)
