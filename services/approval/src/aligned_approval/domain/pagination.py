"""Opaque keyset cursors: the last row's sort key (time, id), base64url JSON (no I/O).

A cursor that does not decode to exactly what this API issued is the client's mistake:
400 problem+json naming `cursor`, never a 500 from a later parse and never a query."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import orjson

from aligned_common.problems import Problem


def encode(moment: datetime | str, row_id: uuid.UUID | str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(moment), str(row_id)])).decode().rstrip("=")


def bad_cursor() -> Problem:
    return Problem(
        400,
        "Invalid cursor",
        detail="invalid fields: cursor",
        errors=[{"field": "cursor", "message": "not a cursor this API issued"}],
    )


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment, row_id = key
        after = datetime.fromisoformat(moment), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise bad_cursor() from None
    if after[0].tzinfo is None:
        raise bad_cursor()
    return after
