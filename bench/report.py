"""bench/results.json and the printed table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class BenchResult:
    name: str
    unit: str
    measured: dict[str, float]
    baseline: dict[str, float]
    ratio: float  # measured headline / baseline headline (higher is better unless lower_is_better)
    target: str
    passed: bool
    notes: dict[str, str] = field(default_factory=dict)


def write(results: list[BenchResult]) -> None:
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing.update({r.name: asdict(r) for r in results})
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def print_table(results: list[BenchResult]) -> None:
    header = f"{'benchmark':<18} {'measured':<40} {'baseline':<34} {'ratio':>7}  {'target':<12} result"
    print(header)
    print("-" * len(header))
    for r in results:
        measured = ", ".join(f"{k}={v:,.1f}" for k, v in r.measured.items())
        baseline = ", ".join(f"{k}={v:,.1f}" for k, v in r.baseline.items())
        print(f"{r.name:<18} {measured:<40} {baseline:<34} {r.ratio:>7.2f}  {r.target:<12} {'PASS' if r.passed else 'FAIL'}")
