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
    error: str | None = None  # why the benchmark could not measure (it then has no figures)

    @classmethod
    def failed(cls, name: str, error: BaseException) -> BenchResult:
        reason = f"{type(error).__name__}: {error}".strip()
        return cls(
            name=name,
            unit="",
            measured={},
            baseline={},
            ratio=float("nan"),
            target="",
            passed=False,
            error=reason,
        )


def write(results: list[BenchResult], path: Path | None = None) -> None:
    """Merged into what the file holds, so each benchmark can be written as it finishes and a
    later crash loses nothing already measured."""
    path = path or RESULTS
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.update({r.name: asdict(r) for r in results})
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)  # a crash mid-write leaves the previous file, never half a file


def print_table(results: list[BenchResult]) -> None:
    header = f"{'benchmark':<18} {'measured':<40} {'baseline':<34} {'ratio':>7}  {'target':<12} result"
    print(header)
    print("-" * len(header))
    for r in results:
        if r.error is not None:
            print(f"{r.name:<18} {'':<40} {'':<34} {'-':>7}  {'':<12} FAIL: {r.error}")
            continue
        measured = ", ".join(f"{k}={v:,.1f}" for k, v in r.measured.items())
        baseline = ", ".join(f"{k}={v:,.1f}" for k, v in r.baseline.items())
        print(
            f"{r.name:<18} {measured:<40} {baseline:<34} {r.ratio:>7.2f}  {r.target:<12} {'PASS' if r.passed else 'FAIL'}"
        )
