import argparse
import asyncio
import sys

from aligned_common.cli import run_service_cli
from aligned_common.db import create_pool
from aligned_common.telemetry import setup_logging
from aligned_webhooks.bootstrap import build, secret_box


def rotate(schema: str | None) -> int:
    definition = build()
    settings = definition.settings
    setup_logging(settings.log_level)
    from aligned_webhooks.service_layer.rotation import rotate_keys

    async def run():
        pool = await create_pool(settings.database_url, min_size=1, max_size=2)
        try:
            return await rotate_keys(pool, schema or definition.name, secret_box(settings))
        finally:
            await pool.close()

    report = asyncio.run(run())
    print(
        f"{schema or definition.name}: re-sealed {report.endpoints} endpoint(s); "
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
