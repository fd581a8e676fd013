"""pipeline_slow: the pipeline's burst with the platform answering every publish after 1 s.

Measured in the same start of the system as `pipeline` (bench/pipeline.py), against whose
posts/s it is judged: target >= 0.8 of it.
"""

from __future__ import annotations

from bench.pipeline import measure
from bench.report import BenchResult


async def run(database_url: str, bootstrap: str) -> BenchResult:
    return (await measure(database_url, bootstrap))[1]
