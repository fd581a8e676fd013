"""The domain errors handlers raise, made one way so titles and members stay consistent
(entrypoints/http.py maps each kind to its RFC 9457 problem)."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_publishing.domain.errors import Conflict, Gone, Invalid, NotFound


def not_found(what: str, id_: uuid.UUID) -> NotFound:
    # Another brand's id is indistinguishable from a missing one: no existence leak.
    return NotFound(f"no {what.lower()} {id_}", title=f"{what} not found")


def conflict(detail: str, **extra: Any) -> Conflict:
    return Conflict(detail, **extra)


def invalid(field: str, message: str, **extra: Any) -> Invalid:
    return Invalid(f"{field}: {message}", errors=[{"field": field, "message": message, **extra}])


def invalid_many(errors: list[dict[str, Any]]) -> Invalid:
    fields = ", ".join(e["field"] for e in errors)
    return Invalid(f"invalid fields: {fields}", errors=errors)


def gone(detail: str) -> Gone:
    return Gone(detail)
