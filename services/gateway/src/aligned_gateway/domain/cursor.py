"""Opaque keyset cursors: base64 of the last row's sort key."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

import orjson

from aligned_gateway.domain.errors import BadRequest


def encode(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([created_at.isoformat(), str(row_id)])).decode().rstrip("=")


MAX_CURSOR_LENGTH = 512


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The sort key of a cursor this gateway made; anything else is a 400 naming `cursor`."""
    if not cursor:
        return None
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = orjson.loads(raw)
        if not isinstance(created_at, str) or not isinstance(row_id, str):
            raise ValueError("not a sort key")
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None:
            raise ValueError("no time zone")
        return at, uuid.UUID(row_id)
    except (ValueError, TypeError):
        raise BadRequest(
            title="Invalid cursor",
            detail="invalid fields: cursor",
            errors=[{"field": "cursor", "message": "not a cursor this API returned"}],
        ) from None
