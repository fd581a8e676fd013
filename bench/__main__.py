"""Run every benchmark, write bench/results.json and print the table.

`python -m bench` runs all; `python -m bench outbox_relay dispatch` runs those named.
Each result is written to results.json as soon as its benchmark finishes; a benchmark that
raises is recorded as failed with its reason and the others still run.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable

from bench.report import BenchResult, print_table, write

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
    "peak",
    "media_upload",
    "csv_import",
)


def available() -> dict[str, Callable[[str, str], Awaitable[BenchResult]]]:
    found = {}
    for name in BENCHMARKS:
        try:
            found[name] = importlib.import_module(f"bench.{name}").run
        except ModuleNotFoundError as missing:
            if missing.name != f"bench.{name}":
                raise
    return found


async def main(selected: list[str]) -> int:
    database_url = os.environ.get(
        "ALIGNED_DATABASE_URL", "postgresql://aligned:aligned@127.0.0.1:15432/aligned"
    )
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
        try:
            result = await run(database_url, bootstrap)
        except Exception as error:
            traceback.print_exc()
            result = BenchResult.failed(name, error)
        write([result])
        results.append(result)
        print(
            f"  {name} took {time.monotonic() - started:.0f} s{'' if result.error is None else ': FAILED'}",
            flush=True,
        )
    print_table(results)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
