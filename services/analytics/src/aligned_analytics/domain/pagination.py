"""Opaque keyset cursors: the last row's sort key, so a page never skips or repeats rows as lists grow.

A cursor that does not decode to exactly the key this API issued (its number of parts, each
part's type) is refused with 400 naming `cursor`, before any query runs."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aligned_analytics.domain.metrics import InvalidQuery
from aligned_common import errors


class BadCursor(errors.BadRequest, InvalidQuery):
    """Not even well-formed (a cursor we did not issue): 400, where a refused field is 422."""

    title = "Bad request"

    def __init__(self) -> None:
        super().__init__("cursor", "malformed cursor: not one this API issued")


def aware_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has a zone")
    return moment


def text(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *parts: Callable[[str], Any]) -> list[Any] | None:
    """The key, each part converted by its parser (e.g. `aware_time, uuid.UUID`)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(parts) or not all(isinstance(k, str) for k in key):
            raise ValueError("wrong shape")
        return [parse(value) for parse, value in zip(parts, key, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise BadCursor() from None


TIME_AND_ID = (aware_time, uuid.UUID)
