"""Run every benchmark, write bench/results.json and print the table."""

from __future__ import annotations

import asyncio
import os
import sys

from bench import outbox_relay
from bench.report import print_table, write

BENCHMARKS = {"outbox_relay": outbox_relay.run}


async def main(selected: list[str]) -> int:
    database_url = os.environ.get("ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned")
    bootstrap = os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    results = []
    for name, run in BENCHMARKS.items():
        if selected and name not in selected:
            continue
        print(f"running {name} ...", flush=True)
        results.append(await run(database_url, bootstrap))
    write(results)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
