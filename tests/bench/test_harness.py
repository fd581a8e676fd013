"""make bench keeps what it measured: each result is written as its benchmark finishes, a failing
benchmark is a FAIL row with its reason, and the refusal to run beside `make up` names `make down`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench.__main__ as harness
import bench.report as report
from aligned_testing import system as system_module
from bench.report import BenchResult

pytestmark = pytest.mark.unit


def _result(name: str) -> BenchResult:
    return BenchResult(
        name=name,
        unit="x/s",
        measured={"x_per_s": 10.0},
        baseline={"y_per_s": 20.0},
        ratio=0.5,
        target=">= 0.4",
        passed=True,
    )


async def test_results_written_as_each_finishes_and_a_failure_keeps_the_others(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    monkeypatch.setattr(report, "RESULTS", results)
    on_disk_when_third_started: dict = {}

    async def first(database_url, bootstrap):
        return _result("first")

    async def broken(database_url, bootstrap):
        raise RuntimeError("`make up` services are running (gateway): run `make down` first")

    async def third(database_url, bootstrap):
        on_disk_when_third_started.update(json.loads(results.read_text()))
        raise KeyboardInterrupt  # the run dies here: what was measured before must already be on disk

    monkeypatch.setattr(harness, "available", lambda: {"first": first, "broken": broken, "third": third})
    with pytest.raises(KeyboardInterrupt):
        await harness.main([])

    assert on_disk_when_third_started["first"]["passed"] is True
    assert on_disk_when_third_started["first"]["measured"] == {"x_per_s": 10.0}
    assert on_disk_when_third_started["broken"]["passed"] is False
    assert "make down" in on_disk_when_third_started["broken"]["error"]
    assert json.loads(results.read_text()).keys() == {"first", "broken"}


async def test_a_failed_benchmark_is_a_fail_row_with_its_reason(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results.json")

    async def ok(database_url, bootstrap):
        return _result("ok")

    async def broken(database_url, bootstrap):
        raise ConnectionRefusedError("sandbox did not answer")

    monkeypatch.setattr(harness, "available", lambda: {"ok": ok, "broken": broken})
    assert await harness.main([]) == 1
    table = capsys.readouterr().out.split("-" * 20)[-1]
    rows = {line.split()[0]: line for line in table.splitlines() if line.strip() and not line.startswith("-")}
    assert rows["ok"].rstrip().endswith("PASS")
    assert "FAIL: ConnectionRefusedError: sandbox did not answer" in rows["broken"]


def test_refusal_beside_make_up_names_make_down(tmp_path, monkeypatch):
    # A process whose command line names a service, as `make up`'s do, with its pid file.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "aligned_gateway"])
    try:
        (tmp_path / "gateway.pid").write_text(str(sleeper.pid))
        # Right after the fork, /proc/<pid>/cmdline can still read empty: wait for the exec to show.
        cmdline = Path(f"/proc/{sleeper.pid}/cmdline")
        deadline = time.monotonic() + 10
        while b"aligned_gateway" not in cmdline.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.01)
        monkeypatch.setattr(system_module, "LOCAL_RUN_DIR", tmp_path)
        with pytest.raises(RuntimeError, match=r"run `make down` first"):
            system_module.start_system(infra=None, log_dir=tmp_path)  # refused before it touches anything
    finally:
        sleeper.kill()
        sleeper.wait()
