"""A job's targets may name only connections of its own brand that publishing knows of (no I/O).

`known` is publishing's projection of connections' events, already narrowed to the brand: an
id of another brand and an id that does not exist look the same (no existence leak). A
connection made moments ago may not have reached the projection yet: the error says so, and
a client retries (ADR 0006).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aligned_common.known_connections import problem_with
from aligned_publishing.domain.content_fit import FitError, TargetDraft


def check_targets(targets: Sequence[TargetDraft], known: Mapping[uuid.UUID, Any]) -> list[FitError]:
    errors = []
    for index, target in enumerate(targets):
        field = f"targets[{index}].connection_id"
        connection = known.get(target.connection_id)
        problem = problem_with(connection, target.connection_id)
        if problem is not None:
            code, message = problem
            errors.append(FitError(field, message, code=code))
        elif connection is not None and connection["platform"] != target.platform.lower():
            errors.append(
                FitError(
                    f"targets[{index}].platform",
                    f"connection {target.connection_id} is a {connection['platform']} account, not {target.platform}",
                    platform=target.platform,
                    code="platform_mismatch",
                )
            )
    return errors
