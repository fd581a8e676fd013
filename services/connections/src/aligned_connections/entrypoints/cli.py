"""The service's command line: the common commands plus `rotate-keys`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from aligned_common.app import ServiceDefinition
from aligned_common.cli import run_service_cli
from aligned_common.telemetry import setup_logging
from aligned_connections.service_layer.deps import Deps
from aligned_connections.service_layer.rotation import RotationReport, rotate_keys


def run(build: Callable[..., ServiceDefinition], argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m aligned_connections")
    parser.add_argument("command", choices=["migrate", "migrate-status", "serve", "rotate-keys"])
    parser.add_argument("--schema", help="rotate-keys: the service's schema (default: connections)")
    args = parser.parse_args(argv)
    if args.command != "rotate-keys":
        return run_service_cli(build, [args.command])
    definition = build(name=args.schema) if args.schema else build()
    setup_logging(definition.settings.log_level)
    report = asyncio.run(rotate_with_own_pool(definition.deps))
    print(
        f"{definition.name}: re-encrypted {report.connections} connection(s) and {report.oauth_states} OAuth state(s); "
        f"{report.unreadable} unreadable, {report.left_behind} still under an old key"
    )
    # Non-zero while anything is left under an old key: dropping that key now would lose it.
    return 0 if report.left_behind == 0 and report.unreadable == 0 else 3


async def rotate_with_own_pool(deps: Deps) -> RotationReport:
    """Outside the app's lifespan: open the service's database for the run, close it after."""
    await deps.database.open()
    try:
        return await rotate_keys(deps)
    finally:
        await deps.close()
        await deps.database.close()
