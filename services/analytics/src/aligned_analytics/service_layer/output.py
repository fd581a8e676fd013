"""Turning database rows into JSON-ready dicts (ids and instants as strings)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, uuid.UUID) else v.isoformat() if isinstance(v, datetime | date) else v)
        for k, v in row.items()
    }
