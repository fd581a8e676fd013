"""The Problems handlers raise (RFC 9457); one place so titles stay consistent."""

from __future__ import annotations

import uuid

from aligned_common.problems import Problem


def not_found(what: str, id_: uuid.UUID) -> Problem:
    # Another brand's id is indistinguishable from a missing one: no existence leak.
    return Problem(404, f"{what} not found", detail=f"no {what.lower()} {id_}")


def conflict(detail: str, **extra) -> Problem:
    return Problem(409, "Conflict", detail=detail, **extra)


def invalid(field: str, message: str, **extra) -> Problem:
    return Problem(
        422,
        "Invalid request",
        detail=f"{field}: {message}",
        errors=[{"field": field, "message": message, **extra}],
    )


def invalid_many(errors: list[dict]) -> Problem:
    fields = ", ".join(e["field"] for e in errors)
    return Problem(422, "Invalid request", detail=f"invalid fields: {fields}", errors=errors)


def gone(detail: str) -> Problem:
    return Problem(410, "Gone", detail=detail)
