"""Turning database rows into JSON-ready dicts (ids and instants as strings)."""

from __future__ import annotations

import uuid
from datetime import date, datetime


def jsonable(row: dict) -> dict:
    return {
        k: (str(v) if isinstance(v, uuid.UUID) else v.isoformat() if isinstance(v, datetime | date) else v)
        for k, v in row.items()
    }
