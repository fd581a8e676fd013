"""Run every benchmark, write bench/results.json and print the table.

`python -m bench` runs all; `python -m bench outbox_relay dispatch` runs those named.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time

from bench.report import print_table, write

# In the order the table prints them; each module exposes `async def run(database_url, bootstrap)`.
BENCHMARKS = (
    "outbox_relay",
    "dispatch",
    "analytics_summary",
    "webhook_ingest",
    "webhook_delivery",
    "connections_publish",
    "gateway_fanout",
    "pipeline",
    "pipeline_slow",  # measured in the same run as pipeline
    "media_upload",
)


def available() -> dict[str, object]:
    found = {}
    for name in BENCHMARKS:
        try:
            found[name] = importlib.import_module(f"bench.{name}").run
        except ModuleNotFoundError as missing:
            if missing.name != f"bench.{name}":
                raise
    return found


async def main(selected: list[str]) -> int:
    database_url = os.environ.get("ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned")
    bootstrap = os.environ.get("ALIGNED_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    runs = available()
    unknown = [name for name in selected if name not in runs]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(runs)}", file=sys.stderr)
        return 2
    results = []
    for name, run in runs.items():
        if selected and name not in selected:
            continue
        print(f"running {name} ...", flush=True)
        started = time.monotonic()
        results.append(await run(database_url, bootstrap))
        print(f"  {name} took {time.monotonic() - started:.0f} s", flush=True)
    write(results)
    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
