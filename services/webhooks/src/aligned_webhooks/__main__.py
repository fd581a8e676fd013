"""`python -m aligned_webhooks migrate|migrate-status|serve|rotate-keys`."""

import argparse
import asyncio
import sys

from aligned_common.cli import run_service_cli
from aligned_common.telemetry import setup_logging
from aligned_webhooks.bootstrap import build
from aligned_webhooks.service_layer.rotation import RotationReport, rotate_keys


def rotate(schema: str | None) -> int:
    definition = build(name=schema) if schema else build()
    setup_logging(definition.settings.log_level)
    deps = definition.deps

    async def run() -> RotationReport:
        # Outside the app's lifespan: open the service's database for the run, close it after.
        await deps.database.open()
        try:
            return await rotate_keys(deps.units, deps.box)
        finally:
            await deps.close()
            await deps.database.close()

    report = asyncio.run(run())
    print(
        f"{definition.name}: re-sealed {report.endpoints} endpoint(s); "
        f"{report.unreadable} unreadable, {report.left_behind} still under an old key"
    )
    # Non-zero while anything is left under an old key: dropping that key now would lose it.
    return 0 if report.left_behind == 0 and report.unreadable == 0 else 3


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m aligned_webhooks")
    parser.add_argument("command", choices=["migrate", "migrate-status", "serve", "rotate-keys"])
    parser.add_argument("--schema", help="rotate-keys: the service's schema (default: webhooks)")
    args = parser.parse_args()
    if args.command == "rotate-keys":
        sys.exit(rotate(args.schema))
    sys.exit(run_service_cli(build, [args.command]))


if __name__ == "__main__":
    main()
