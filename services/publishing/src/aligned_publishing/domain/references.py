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

from aligned_publishing.domain.content_fit import FitError, TargetDraft


def check_targets(targets: Sequence[TargetDraft], known: Mapping[uuid.UUID, Any]) -> list[FitError]:
    errors = []
    for index, target in enumerate(targets):
        field = f"targets[{index}].connection_id"
        connection = known.get(target.connection_id)
        if connection is None:
            errors.append(
                FitError(
                    field,
                    f"no connection {target.connection_id} in this brand (one connected moments ago "
                    "becomes usable within seconds: retry)",
                    code="unknown_connection",
                )
            )
        elif connection["status"] == "disconnected":
            errors.append(
                FitError(field, f"connection {target.connection_id} was disconnected", code="connection_disconnected")
            )
        elif connection["platform"] != target.platform.lower():
            errors.append(
                FitError(
                    f"targets[{index}].platform",
                    f"connection {target.connection_id} is a {connection['platform']} account, not {target.platform}",
                    platform=target.platform,
                    code="platform_mismatch",
                )
            )
    return errors
