"""Approval's copy of connections' status (aligned_common.known_connections), as a repository."""

from __future__ import annotations

import uuid
from typing import Any

from aligned_common import known_connections
from aligned_common.envelope import EventEnvelope
from aligned_common.units import Repository


class SqlKnownConnections(Repository):
    """Which connections a policy may name."""

    async def record(self, envelope: EventEnvelope, data: Any) -> None:
        await known_connections.record(self.conn, envelope, data)

    async def problem_with(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> tuple[str, str] | None:
        """(code, message) when the brand may not name this connection; None when it may."""
        known = await known_connections.of_brand(self.conn, brand_id, [connection_id])
        return known_connections.problem_with(known.get(connection_id), connection_id)
