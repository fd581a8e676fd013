"""Opaque keyset cursors: the last row's sort key, so a page never skips or repeats rows as lists grow."""

from __future__ import annotations

import base64
import json
from typing import Any

from aligned_analytics.domain.metrics import InvalidQuery


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidQuery("cursor", "malformed cursor") from None
    if not isinstance(key, list) or len(key) != size:
        raise InvalidQuery("cursor", "malformed cursor")
    return key
