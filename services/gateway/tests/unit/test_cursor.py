"""Cursors the gateway decodes itself: its own round-trip, and a 400 naming `cursor` for
anything else (never a 500)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from aligned_gateway.domain import cursor
from aligned_gateway.domain.errors import DomainError
from aligned_gateway.entrypoints.errors import problem_of

pytestmark = pytest.mark.unit


def _b64(value) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def test_round_trip():
    at, row = datetime.now(UTC), uuid.uuid4()
    assert cursor.decode(cursor.encode(at, row)) == (at, row)
    assert cursor.decode(None) is None and cursor.decode("") is None


@pytest.mark.parametrize(
    "bad",
    [
        "!!!",
        "a",
        "x" * 600,
        _b64([]),
        _b64(["2024-01-01T00:00:00+00:00"]),
        _b64([1, 2]),
        _b64(["2024-01-01T00:00:00+00:00", 5]),
        _b64(["not a time", str(uuid.uuid4())]),
        _b64(["2024-01-01T00:00:00", str(uuid.uuid4())]),
        _b64(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
        _b64({"a": 1}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_anything_else_is_a_400_naming_the_field(bad):
    with pytest.raises(DomainError) as refused:
        cursor.decode(bad)
    problem = problem_of(refused.value)
    assert problem.status == 400 and problem.extra["errors"][0]["field"] == "cursor"
