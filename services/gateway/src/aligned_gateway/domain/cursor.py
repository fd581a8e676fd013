"""Opaque keyset cursors: base64 of the last row's sort key."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import orjson

from aligned_common.problems import Problem


def encode(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([created_at.isoformat(), str(row_id)])).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = orjson.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError):
        raise Problem(422, "Invalid request", detail="invalid fields: cursor", errors=[{"field": "cursor", "message": "malformed cursor"}]) from None
