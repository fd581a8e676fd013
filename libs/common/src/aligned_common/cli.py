"""`python -m aligned_<service> migrate|migrate-status|serve` for every service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from aligned_common.app import ServiceDefinition, serve
from aligned_common.migrations import migrate, status
from aligned_common.telemetry import setup_logging


def run_service_cli(build: Callable[[], ServiceDefinition], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aligned_<service>")
    parser.add_argument("command", choices=["migrate", "migrate-status", "serve"])
    args = parser.parse_args(argv)
    definition = build()
    settings = definition.settings
    if args.command == "serve":
        serve(definition)
        return 0
    setup_logging(settings.log_level)
    if args.command == "migrate":
        dsn, login_role = settings.migration_target()
        applied = asyncio.run(migrate(dsn, definition.name, definition.migrations_dir, login_role=login_role))
        print(
            f"{definition.name}: applied {len(applied)} migration(s)"
            + (f": {', '.join(applied)}" if applied else "")
        )
        return 0
    rows = asyncio.run(status(settings.migration_target()[0], definition.name, definition.migrations_dir))
    for version, state in rows:
        print(f"{definition.name}\t{version}\t{state}")
    return 1 if any(state == "changed" for _, state in rows) else 0


def main() -> None:
    print("aligned-common is a library; run a service with python -m aligned_<service>", file=sys.stderr)
    sys.exit(2)
