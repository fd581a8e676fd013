"""docs/problems.md describes every problem type the API answers, with its status."""

import re
from pathlib import Path

import pytest

from aligned_common.problems import PROBLEM_TYPES, problem_type

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs/problems.md"


def test_the_table_is_the_mapping():
    rows = re.findall(r"^\| `(urn:aligned:problem:[a-z-]+)` \| (\d{3}) \|", DOC.read_text(), re.M)
    assert {int(status): urn for urn, status in rows} == {s: problem_type(s) for s in PROBLEM_TYPES}
