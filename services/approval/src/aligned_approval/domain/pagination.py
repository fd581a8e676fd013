"""Opaque keyset cursors: the last row's sort key, base64url JSON (no I/O)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from aligned_common.problems import Problem


def encode(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(k) for k in key])).decode().rstrip("=")


def decode(cursor: str | None, size: int) -> list[str] | None:
    if not cursor:
        return None
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    if not isinstance(key, list) or len(key) != size:
        raise Problem(422, "Invalid request", detail="invalid fields: cursor", errors=[{"field": "cursor", "message": "not a cursor this API issued"}])
    return key
